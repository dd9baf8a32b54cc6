import FaastenTestSupport
import Foundation
import Store
import Testing

/// A read transaction sees one state of the store from its first read to its end,
/// whatever commits meanwhile, and concurrent readers do not wait for each other.
@Suite("Read transactions")
struct ReadIsolationTests {
    @Test(arguments: Backend.allCases)
    func aReadTransactionSeesOneSnapshotWhileAWriterCommits(backend: Backend) async throws {
        let test = try await backend.makeStore()
        let store = test.store
        try await store.transaction(.write) { try $0.setMetadata("k", "before") }
        let seen = try Self.readAcrossACommit(store)
        #expect(seen == ["before", "before"])
        #expect(try await store.transaction(.read) { try $0.metadata("k") } == "after")
        await test.close()
    }

    @Test
    func concurrentReadersEachGetAConnection() async throws {
        let test = try await Backend.sqlite.makeStore()
        let store = test.store
        try await store.transaction(.write) { try $0.setMetadata("k", "v") }
        let (allInside, allFinished, read) = Self.readConcurrently(store, readers: 8)
        #expect(allInside)
        #expect(allFinished)
        #expect(read == Array(repeating: "v", count: 8))
        await test.close()
    }

    /// Reads `k` twice in one read transaction, with a write of it committed between.
    private static func readAcrossACommit(_ store: any Store) throws -> [String?] {
        let firstReadDone = DispatchSemaphore(value: 0)
        let writeCommitted = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            firstReadDone.wait()
            try? store.synchronousTransaction(.write) { try $0.setMetadata("k", "after") }
            writeCommitted.signal()
        }
        return try store.synchronousTransaction(.read) { transaction -> [String?] in
            let first = try transaction.metadata("k")
            firstReadDone.signal()
            _ = writeCommitted.wait(timeout: .now() + 10)
            return [first, try transaction.metadata("k")]
        }
    }

    /// `readers` threads inside a read transaction at once: each must get there while
    /// the others still hold theirs (a shared connection would deadlock or interleave).
    private static func readConcurrently(_ store: any Store, readers: Int) -> (Bool, Bool, [String?]) {
        let inside = DispatchGroup()
        let finished = DispatchGroup()
        let release = DispatchSemaphore(value: 0)
        let values = Values()
        for _ in 0..<readers {
            inside.enter()
            finished.enter()
            Thread.detachNewThread {
                defer { finished.leave() }
                let value = try? store.synchronousTransaction(.read) { transaction -> String? in
                    let value = try transaction.metadata("k")
                    inside.leave()
                    release.wait()
                    return value
                }
                values.append(value ?? nil)
            }
        }
        let allInside = inside.wait(timeout: .now() + 10) == .success
        for _ in 0..<readers { release.signal() }
        let allFinished = finished.wait(timeout: .now() + 10) == .success
        return (allInside, allFinished, values.all)
    }
}

/// Values appended from several threads.
private final class Values: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String?] = []
    func append(_ value: String?) { lock.withLock { values.append(value) } }
    var all: [String?] { lock.withLock { values } }
}
