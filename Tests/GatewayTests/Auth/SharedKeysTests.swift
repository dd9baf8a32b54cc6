import FaastenTestSupport
import FileSystem
import Foundation
import Store
import Testing

@testable import Gateway

/// Gateways of a cluster share their token signing keys through the store: a token one
/// signs is accepted by the others, also after a rotation.
@Suite("signing keys shared through the store")
struct SharedKeysTests {
    @Test(arguments: Backend.allCases)
    func aTokenFromOneGatewayIsAcceptedByAnotherAlsoAfterARotation(_ backend: Backend) async throws {
        let test = try await backend.makeStore()
        let fileSystem = FileSystem(store: test.store)
        try await fileSystem.bootstrap()
        var configuration = GatewayConfiguration()
        configuration.bcryptCost = 4
        // Logins are audited in batches a moment later: flushed before the store closes,
        // as a server does (a write to the closed store fails as "sqlite: out of memory").
        let audit = try AuditLog(store: test.store)
        func gateway() async throws -> Accounts {
            Accounts(fileSystem: fileSystem, keys: try await SigningKeys(store: test.store), audit: audit, configuration: configuration)
        }
        let first = try await gateway()
        let second = try await gateway()
        _ = try await first.register(name: "carol", password: "carol-password")

        let token = try await first.login(name: "carol", password: "carol-password", address: "127.0.0.1").token
        #expect(try await second.authenticate("Bearer \(token)").principal == "carol")

        // The first gateway rotates; its new tokens verify at the second, which has not
        // read the new key yet; older tokens still verify.
        _ = try await first.keys.rotate(keepFor: .seconds(3600))
        try await Task.sleep(for: .milliseconds(1100))
        let newer = try await first.login(name: "carol", password: "carol-password", address: "127.0.0.1").token
        #expect(newer != token)
        #expect(try await second.authenticate("Bearer \(newer)").principal == "carol")
        #expect(try await second.authenticate("Bearer \(token)").principal == "carol")

        // A token signed by a key that is not in the store is refused.
        let stranger = try await SigningKeys(directory: try TemporaryDirectory().path + "/keys")
        let foreign = try await Accounts(
            fileSystem: fileSystem, keys: stranger, audit: audit, configuration: configuration
        ).login(name: "carol", password: "carol-password", address: "127.0.0.1").token
        await #expect(throws: APIError.self) { try await second.authenticate("Bearer \(foreign)") }
        await audit.flush()
        await test.close()
    }
}
