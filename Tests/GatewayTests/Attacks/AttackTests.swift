import Testing

/// The attacks of `Tests/GatewayTests/Attacks`, each suite against its own real
/// `faasten serve`. One suite at a time: each starts a server and some load it (a
/// 3,000-request flood), which would starve the timing-sensitive tests of the rest.
@Suite("attacks through a real faasten serve", .serialized)
enum AttackTests {}
