import Crypto
import Foundation
import JWTKit
import Keys
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// The ES256 keys tokens are signed with: PEM files (mode 0600) in `DATA/keys` for
/// one server, or rows of the store that every gateway of a cluster shares. The newest
/// signs; every key still kept verifies, so rotating does not invalidate tokens that
/// have not expired. A key superseded for longer than the longest token lifetime can
/// have signed nothing still valid, and is removed.
///
/// Gateways sharing the store pick up a key another one made when a token signed with
/// it arrives (and every `refreshInterval` in any case, which also drops removed keys).
public actor SigningKeys {
    /// Where the keys are kept.
    public enum Storage: Sendable {
        case directory(String)
        case store(any Store)
    }

    public let storage: Storage
    /// Seals the private keys at rest (files or rows); `nil`: kept in clear (tests).
    let sealer: KeyRing?
    let collection = JWTKeyCollection()
    private(set) var current: JWKIdentifier
    private var known: [String] = []
    private var loadedAt = ContinuousClock.now
    /// How often keys shared through the store are read again.
    static let refreshInterval: Duration = .seconds(30)

    /// Loads the keys in `directory`, creating the directory and a first key if needed.
    /// With `sealedWith`, the private keys are sealed at rest; keys in clear are sealed
    /// when that ring was just made (a store from before), and otherwise refused as
    /// tampering (a key planted by whoever can write the database or the directory
    /// would sign tokens for anyone).
    public init(directory: String, sealedWith keys: KeyRing? = nil) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
        try await self.init(storage: .directory(directory), sealer: keys)
    }

    /// Loads the keys shared through `store` (a cluster's gateways), creating a first
    /// one if there is none; sealed with `sealedWith` as for a directory.
    public init(store: any Store, sealedWith keys: KeyRing? = nil) async throws {
        try store.prepare(GatewaySchema.schema)
        try await self.init(storage: .store(store), sealer: keys)
    }

    private init(storage: Storage, sealer: KeyRing?) async throws {
        self.storage = storage
        self.sealer = sealer
        if let sealer, sealer.createdFirstKey { try await Self.sealInClear(storage, sealer) }
        var keys = try await Self.load(storage, sealer)
        if keys.isEmpty {
            try await Self.add(Self.newKey(), to: storage, sealer)
            keys = try await Self.load(storage, sealer)
        }
        current = JWKIdentifier(string: keys.last!.name)
        try await install(keys)
    }

    /// The key id new tokens are signed with.
    public var currentID: String { current.string }

    /// Makes a new key the signing key; removes keys superseded more than
    /// `keepFor` ago.
    @discardableResult
    public func rotate(keepFor: Duration) async throws -> String {
        let key = Self.newKey()
        try await Self.add(key, to: storage, sealer)
        // Key names start with their creation time, so a key's successor says when it
        // stopped signing.
        let cutoff = Date().timeIntervalSince1970 - Double(keepFor.components.seconds)
        let names = try await Self.stored(storage).map(\.name)
        for (index, old) in names.dropLast().enumerated() {
            guard let supersededAt = Self.createdAt(names[index + 1]), supersededAt < cutoff else { continue }
            try await Self.remove(old, from: storage)
        }
        try await install(try await Self.load(storage, sealer))
        return key.name
    }

    func sign(_ claims: some JWTPayload) async throws -> String {
        if case .store = storage, ContinuousClock.now - loadedAt > Self.refreshInterval { try? await refresh() }
        return try await collection.sign(claims, kid: current)
    }

    /// The claims of a token signed by one of the keys. Its header must say what it is:
    /// `alg: ES256` and the `kid` of a known key; any other algorithm, or none, is
    /// refused before the signature is looked at (the key collection alone would verify
    /// an ES256 signature whatever the header claimed).
    func verify<Claims: JWTPayload>(_ token: String, as type: Claims.Type) async throws -> Claims {
        let kid = try Self.header(of: token)
        if !known.contains(kid) {
            // Perhaps a key another gateway made since: read the keys again (at most once
            // a second, so that bad tokens cannot make every request a read).
            guard case .store = storage, ContinuousClock.now - loadedAt > .seconds(1) else { throw TokenHeaderError.unknownKey }
            try await refresh()
            guard known.contains(kid) else { throw TokenHeaderError.unknownKey }
        }
        return try await collection.verify(token, as: type)
    }

    /// The `kid` of a token whose header says `alg: ES256`.
    static func header(of token: String) throws(TokenHeaderError) -> String {
        guard let end = token.firstIndex(of: "."), let bytes = Self.base64URL(token[..<end]),
            let header = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        else { throw .malformed }
        guard header["alg"] as? String == "ES256" else { throw .algorithm(String(describing: header["alg"] ?? "none")) }
        guard let kid = header["kid"] as? String, !kid.isEmpty else { throw .unknownKey }
        return kid
    }

    private static func base64URL(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }

    private func refresh() async throws {
        try await install(try await Self.load(storage, sealer))
    }

    /// Makes `keys` (sorted by name) the known keys: the newest signs.
    private func install(_ keys: [(name: String, pem: String)]) async throws {
        let names = keys.map(\.name)
        for key in keys where !known.contains(key.name) {
            await collection.add(ecdsa: try ES256PrivateKey(pem: key.pem), kid: JWKIdentifier(string: key.name))
        }
        for old in known where !names.contains(old) {
            _ = await collection.remove(kid: JWKIdentifier(string: old))
        }
        known = names
        if let newest = names.last { current = JWKIdentifier(string: newest) }
        loadedAt = .now
    }

    // MARK: Storage

    /// The keys as stored (sealed or not), sorted by name.
    private static func stored(_ storage: Storage) async throws -> [(name: String, pem: String)] {
        switch storage {
        case let .directory(directory):
            return try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".pem") }
                .sorted()
                .map { (name: String($0.dropLast(4)), pem: try String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8)) }
        case let .store(store):
            let keys = try await store.transaction(.read) { try $0.signingKeys() }
            return keys.sorted { $0.name < $1.name }
        }
    }

    /// The usable keys: opened when sealing; a key that does not open, or one in clear,
    /// is left out and reported as tampering.
    private static func load(_ storage: Storage, _ sealer: KeyRing?) async throws -> [(name: String, pem: String)] {
        let keys = try await stored(storage)
        guard let sealer else { return keys }
        return keys.compactMap { key in opened(key, with: sealer).map { (name: key.name, pem: $0) } }
    }

    /// The PEM of a stored key opened with `sealer`; `nil` (reported) for one in clear or
    /// one that does not open.
    static func opened(_ key: (name: String, pem: String), with sealer: KeyRing) -> String? {
        guard key.pem.hasPrefix(sealedPrefix), let bytes = Data(base64Encoded: String(key.pem.dropFirst(sealedPrefix.count))) else {
            sealer.reportTampering("signing key \(key.name): in clear where a sealed key belongs; not used")
            return nil
        }
        guard let pem = try? sealer.open(Array(bytes), binding: binding(key.name), what: "signing key \(key.name)") else { return nil }
        return String(decoding: pem, as: UTF8.self)
    }

    private static func add(_ key: (name: String, pem: String), to storage: Storage, _ sealer: KeyRing?) async throws {
        let text = try sealer.map { sealedPrefix + Data(try $0.seal(Array(key.pem.utf8), binding: binding(key.name))).base64EncodedString() }
            ?? key.pem
        switch storage {
        case let .directory(directory):
            try writePrivately(Array(text.utf8), to: "\(directory)/\(key.name).pem")
        case let .store(store):
            try await store.transaction(.write) { try $0.insertSigningKey(name: key.name, pem: text) }
        }
    }

    /// Seals the keys still in clear (a store or directory from before encryption at rest).
    private static func sealInClear(_ storage: Storage, _ sealer: KeyRing) async throws {
        for key in try await stored(storage) where !key.pem.hasPrefix(sealedPrefix) {
            try await remove(key.name, from: storage)
            try await add(key, to: storage, sealer)
        }
    }

    static let sealedPrefix = "faasten-sealed:"

    private static func binding(_ name: String) -> [UInt8] {
        Array("faasten signing key \(name)".utf8)
    }

    private static func remove(_ name: String, from storage: Storage) async throws {
        switch storage {
        case let .directory(directory):
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name).pem")
        case let .store(store):
            try await store.transaction(.write) { try $0.deleteSigningKey(name) }
        }
    }

    private static func createdAt(_ name: String) -> Double? {
        name.split(separator: "-").first.flatMap { Double($0) }
    }

    /// A new key named `<unix time>-<random>`.
    private static func newKey() -> (name: String, pem: String) {
        let time = String(format: "%012d", Int(Date().timeIntervalSince1970))
        return (name: "\(time)-\(UUID().uuidString.prefix(8).lowercased())", pem: ES256PrivateKey().pemRepresentation)
    }

    /// Writes a new file readable only by this user.
    private static func writePrivately(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw GatewayError.setup("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw GatewayError.setup("cannot write \(path)") }
    }
}

/// Why a token's header was refused.
enum TokenHeaderError: Error, CustomStringConvertible {
    case malformed
    case algorithm(String)
    case unknownKey

    var description: String {
        switch self {
        case .malformed: return "the token's header is not base64url JSON"
        case let .algorithm(alg): return "the token's algorithm is \(alg); only ES256 is accepted"
        case .unknownKey: return "the token names no key of this server (kid)"
        }
    }
}

/// A failure to start the gateway.
public enum GatewayError: Error, CustomStringConvertible {
    case setup(String)

    public var description: String {
        switch self {
        case let .setup(reason): return reason
        }
    }
}
