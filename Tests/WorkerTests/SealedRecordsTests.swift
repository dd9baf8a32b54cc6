import FaastenTestSupport
import Foundation
import Keys
import Store
import Testing
import Worker

/// Invocation results and logs sealed at rest, on real stores: nowhere in clear in the
/// database, and a result moved to another record or relabelled there is refused.
@Suite("Sealed invocation records")
struct SealedRecordsTests {
    static func record(_ id: String, result: String, label: String = "alice,alice") -> InvocationRecord {
        InvocationRecord(
            id: id, target: "home:<alice,alice>:f", invoker: "alice", startLabel: "T,T", status: .completed, submittedAt: 1,
            startedAt: 2, finishedAt: 3, outcome: .completed(status: 200, body: Array(result.utf8)), resultLabel: label,
            logs: Array("log of \(result)".utf8), logLabel: label)
    }

    @Test(arguments: Backend.allCases)
    func resultsAndLogsAreSealedAndBoundToTheirRecordAndLabel(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let keyDirectory = try TemporaryDirectory()
        let keys = try await KeyRing.open(store: test.store, master: .file(keyDirectory.path + "/master-key", create: true))
        try test.store.prepare(InvocationRecords.schema)
        let secret = "secret-\(UUID().uuidString)"
        try await test.store.transaction(.write) { transaction in
            try InvocationRecords.save(Self.record("a", result: secret), in: transaction, sealedWith: keys)
            try InvocationRecords.save(Self.record("b", result: "other"), in: transaction, sealedWith: keys)
        }
        let loaded = try await test.store.transaction(.read) { try InvocationRecords.load("a", in: $0, keys: keys) }
        #expect(loaded?.result == Array(secret.utf8))
        #expect(loaded?.logs == Array("log of \(secret)".utf8))
        let raw = try await test.store.transaction(.read) { try $0.query("SELECT result, logs FROM invocations", []) }
        for row in raw {
            for column in [0, 1] {
                let bytes = try row.optionalBytes(column) ?? []
                #expect(KeyRing.isSealed(bytes))
                #expect(Data(bytes).range(of: Data(secret.utf8)) == nil)
            }
        }
        // Another record's result copied over b's, and a's relabelled public: both refused.
        _ = try await test.store.transaction(.write) { transaction in
            _ = try transaction.execute("UPDATE invocations SET result = (SELECT result FROM invocations WHERE id = 'a') WHERE id = 'b'", [])
            _ = try transaction.execute("UPDATE invocations SET result_label = 'T,T' WHERE id = 'a'", [])
        }
        for id in ["a", "b"] {
            await #expect(throws: KeyError.self) { _ = try await test.store.transaction(.read) { try InvocationRecords.load(id, in: $0, keys: keys) } }
        }
        await test.close()
    }

    @Test
    func recordsFromBeforeAreSealedAtTheFirstKey() async throws {
        let test = try await Backend.sqlite.makeStore()
        try test.store.prepare(InvocationRecords.schema)
        try await test.store.transaction(.write) { try InvocationRecords.save(Self.record("old", result: "plain"), in: $0, sealedWith: nil) }
        let keyDirectory = try TemporaryDirectory()
        let keys = try await KeyRing.open(store: test.store, master: .file(keyDirectory.path + "/master-key", create: true))
        #expect(try await InvocationRecords.sealInClear(test.store, keys: keys) == 1)
        #expect(try await InvocationRecords.sealInClear(test.store, keys: keys) == 0)
        let loaded = try await test.store.transaction(.read) { try InvocationRecords.load("old", in: $0, keys: keys) }
        #expect(loaded?.result == Array("plain".utf8))
        await test.close()
    }
}
