import Crypto
import Foundation
import JWTKit

#if canImport(Glibc)
    import Glibc
#endif

/// The ES256 keys tokens are signed with, kept as PEM files (mode 0600) in
/// `DATA/keys`. The newest signs; every key still on disk verifies, so rotating does
/// not invalidate tokens that have not expired. A key superseded for longer than the
/// longest token lifetime can have signed nothing still valid, and is removed.
public actor SigningKeys {
    public let directory: String
    let collection = JWTKeyCollection()
    private(set) var current: JWKIdentifier
    private var known: [String] = []

    /// Loads the keys in `directory`, creating the directory and a first key if needed.
    public init(directory: String) async throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
        var names = try Self.keyNames(in: directory)
        if names.isEmpty {
            names = [try Self.createKey(in: directory)]
        }
        for name in names {
            let pem = try String(contentsOfFile: "\(directory)/\(name).pem", encoding: .utf8)
            await collection.add(ecdsa: try ES256PrivateKey(pem: pem), kid: JWKIdentifier(string: name))
        }
        known = names
        current = JWKIdentifier(string: names.last!)
    }

    /// The key id new tokens are signed with.
    public var currentID: String { current.string }

    /// Makes a new key the signing key; removes keys superseded more than
    /// `keepFor` ago.
    @discardableResult
    public func rotate(keepFor: Duration) async throws -> String {
        let name = try Self.createKey(in: directory)
        let pem = try String(contentsOfFile: "\(directory)/\(name).pem", encoding: .utf8)
        await collection.add(ecdsa: try ES256PrivateKey(pem: pem), kid: JWKIdentifier(string: name))
        known.append(name)
        current = JWKIdentifier(string: name)
        // Key names start with their creation time, so a key's successor says when it
        // stopped signing.
        let cutoff = Date().timeIntervalSince1970 - Double(keepFor.components.seconds)
        for (index, old) in known.dropLast().enumerated() {
            guard let supersededAt = Self.createdAt(known[index + 1]), supersededAt < cutoff else { continue }
            try? FileManager.default.removeItem(atPath: "\(directory)/\(old).pem")
            _ = await collection.remove(kid: JWKIdentifier(string: old))
        }
        known = known.filter { FileManager.default.fileExists(atPath: "\(directory)/\($0).pem") }
        return name
    }

    func sign(_ claims: some JWTPayload) async throws -> String {
        try await collection.sign(claims, kid: current)
    }

    func verify<Claims: JWTPayload>(_ token: String, as type: Claims.Type) async throws -> Claims {
        try await collection.verify(token, as: type)
    }

    private static func keyNames(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".pem") }
            .map { String($0.dropLast(4)) }
            .sorted()
    }

    private static func createdAt(_ name: String) -> Double? {
        name.split(separator: "-").first.flatMap { Double($0) }
    }

    /// Writes a new key, readable only by this user, named `<unix time>-<random>`.
    private static func createKey(in directory: String) throws -> String {
        let time = String(format: "%012d", Int(Date().timeIntervalSince1970))
        let name = "\(time)-\(UUID().uuidString.prefix(8).lowercased())"
        let path = "\(directory)/\(name).pem"
        let pem = Array(ES256PrivateKey().pemRepresentation.utf8)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw GatewayError.setup("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = pem.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == pem.count else { throw GatewayError.setup("cannot write \(path)") }
        return name
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
