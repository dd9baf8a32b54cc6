import Crypto
import Foundation
internal import HummingbirdBcrypt
import NIOPosix

/// Password hashing with bcrypt. The password is first hashed with SHA-256 (and
/// base64-encoded), because bcrypt reads only the first 72 bytes of its input: two
/// long passwords sharing a prefix must not be the same password. Hashing runs on
/// NIO's blocking thread pool: it takes a quarter second at the default cost.
struct Passwords: Sendable {
    let cost: UInt8

    /// A hash nobody's password matches: verified against for unknown names, so that
    /// a wrong name takes as long as a wrong password.
    let decoy: String

    init(cost: UInt8) {
        self.cost = cost
        decoy = Bcrypt.hash(Self.prepare(UUID().uuidString), cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let (text, cost) = (Self.prepare(password), cost)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(text, cost: cost) }
    }

    func verify(_ password: String, against hash: String?) async throws -> Bool {
        let (text, stored, decoy) = (Self.prepare(password), hash, decoy)
        return try await NIOThreadPool.singleton.runIfActive {
            let matches = Bcrypt.verify(text, hash: stored ?? decoy)
            return stored != nil && matches
        }
    }

    private static func prepare(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
