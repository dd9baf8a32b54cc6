import Foundation
import JWTKit
import Labels

/// The claims of an access token. `sub` is the account (the principal); `priv` the
/// privilege the token carries: the principal's own for a login, weaker for a
/// delegated token.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var priv: String
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    /// `login` or `delegated`.
    var kind: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Who is making a request, once its token (if any) is verified.
public struct Caller: Sendable {
    /// The account, or `nil` for an anonymous request.
    public let principal: String?
    /// What the request may act with: `T` when anonymous.
    public let privilege: Privilege
    /// The verified token's claims.
    let claims: AccessClaims?
    /// An administrator acting with the full admin privilege.
    public let admin: Bool

    static let anonymous = Caller(principal: nil, privilege: .none, claims: nil, admin: false)

    var expiresAt: Double? { claims?.exp.value.timeIntervalSince1970 }
    /// For the audit log: the principal, or `T` for anonymous.
    var name: String { principal ?? "T" }
}
