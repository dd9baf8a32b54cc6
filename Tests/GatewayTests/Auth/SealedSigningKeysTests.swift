import FaastenTestSupport
import FileSystem
import Foundation
import JWTKit
import Keys
import Store
import Testing

@testable import Gateway

/// Token signing keys sealed at rest: no private key in clear in the database, and a
/// key planted there in clear never signs a token the gateway accepts.
@Suite("sealed signing keys")
struct SealedSigningKeysTests {
    @Test(arguments: Backend.allCases)
    func keysAreSealedAndAPlantedKeyIsNotTrusted(_ backend: Backend) async throws {
        let test = try await backend.makeStore()
        let keyDirectory = try TemporaryDirectory()
        let ring = try await KeyRing.open(store: test.store, master: .file(keyDirectory.path + "/master-key", create: true))
        let fileSystem = FileSystem(store: test.store, keys: ring)
        try await fileSystem.bootstrap()
        var configuration = GatewayConfiguration()
        configuration.bcryptCost = 4
        let audit = try AuditLog(store: test.store)
        let accounts = Accounts(
            fileSystem: fileSystem, keys: try await SigningKeys(store: test.store, sealedWith: ring), audit: audit, configuration: configuration)
        _ = try await accounts.register(name: "carol", password: "carol-password")
        let token = try await accounts.login(name: "carol", password: "carol-password", address: "127.0.0.1").token
        #expect(try await accounts.authenticate("Bearer \(token)").principal == "carol")

        let stored = try await test.store.transaction(.read) { try $0.signingKeys() }
        #expect(!stored.isEmpty)
        #expect(stored.allSatisfy { $0.pem.hasPrefix("faasten-sealed:") && !$0.pem.contains("PRIVATE KEY") })

        // Whoever can write the database plants a key in clear, named to be the newest,
        // and signs a token for the admin with it: a gateway started now does not use it.
        let planted = ES256PrivateKey()
        let name = "999999999999-planted"
        try await test.store.transaction(.write) { try $0.insertSigningKey(name: name, pem: planted.pemRepresentation) }
        // Restarted: the key ring opened again (keys in clear are sealed only by the start
        // that made the store's first data key).
        let reopened = try await KeyRing.open(store: test.store, master: .file(keyDirectory.path + "/master-key", create: true))
        #expect(!reopened.createdFirstKey)
        let restarted = Accounts(
            fileSystem: fileSystem, keys: try await SigningKeys(store: test.store, sealedWith: reopened), audit: audit,
            configuration: configuration)
        let forger = JWTKeyCollection()
        await forger.add(ecdsa: planted, kid: JWKIdentifier(string: name))
        let claims = AccessClaims(
            sub: .init(value: "carol"), priv: "carol", exp: .init(value: Date().addingTimeInterval(600)), iat: .init(value: Date()),
            jti: .init(value: UUID().uuidString), kind: "login")
        let forged = try await forger.sign(claims, kid: JWKIdentifier(string: name))
        await #expect(throws: APIError.self) { try await restarted.authenticate("Bearer \(forged)") }
        #expect(try await restarted.authenticate("Bearer \(token)").principal == "carol")
        await audit.flush()
        await test.close()
    }
}
