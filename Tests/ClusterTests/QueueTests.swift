import Cluster
import FaastenTestSupport
import Foundation
import LocalPostgres
import Store
import Testing
import Worker

/// The queue's rules on a real PostgreSQL server, with workers played by the test.
@Suite("cluster queue")
struct QueueTests {
    func withQueue<T>(_ body: (PostgresStore, PostgresQueue) async throws -> T) async throws -> T {
        let url = try LocalPostgres.shared().createDatabase(prefix: "queue")
        let store = try await PostgresStore(location: try PostgresLocation(url: url), connections: 4)
        let queue = try PostgresQueue(store: store, keys: nil)
        do {
            let value = try await body(store, queue)
            try await store.close()
            return value
        } catch {
            try? await store.close()
            throw error
        }
    }

    func enqueue(_ queue: PostgresQueue, _ id: String, affinity: String = "a", maxAttempts: Int = 3) async throws {
        let row = InvocationRecord(id: id, target: "t", invoker: "carol", startLabel: "T,carol", status: .queued, submittedAt: 1)
        try await queue.enqueue(row, request: Array("{}".utf8), affinity: affinity, maxAttempts: maxAttempts)
    }

    func finished(_ id: String) -> InvocationRecord {
        InvocationRecord(
            id: id, target: "t", invoker: "carol", startLabel: "T,carol", status: .completed, submittedAt: 1, finishedAt: 2,
            outcome: .completed(status: 200, body: Array("done".utf8)), resultLabel: "T,carol")
    }

    @Test func aLeaseThatRunsOutPassesTheInvocationOnAndOnlyItsHolderRecordsTheResult() async throws {
        try await withQueue { store, queue in
            for worker in ["a", "b"] { try await queue.register(id: worker, host: "h", pid: 1, memoryMB: 128, slots: 1) }
            try await enqueue(queue, "i1")
            let first = try await queue.claim(worker: "a", limit: 1, warm: [], running: 0, lease: 60)
            #expect(first.map(\.id) == ["i1"] && first.first?.attempt == 1)
            #expect(try await store.transaction(.read) { try InvocationRecords.load("i1", in: $0, keys: nil) }?.status == .running)
            // Leased: nobody else gets it.
            #expect(try await queue.claim(worker: "b", limit: 1, warm: [], running: 0, lease: 60).isEmpty)
            // a stops renewing: its last heartbeat gave it no time (as if it died a lease ago).
            _ = try await queue.heartbeat(worker: "a", lease: -1, running: 1, warm: [])
            let second = try await queue.claim(worker: "b", limit: 1, warm: [], running: 0, lease: 60)
            #expect(second.map(\.id) == ["i1"] && second.first?.attempt == 2)
            // The first worker comes back with a result: dropped.
            #expect(try await queue.complete(finished("i1"), worker: "a", attempt: 1) == false)
            #expect(try await queue.complete(finished("i1"), worker: "b", attempt: 2) == true)
            #expect(try await queue.complete(finished("i1"), worker: "b", attempt: 2) == false)
            let row = try #require(try await store.transaction(.read) { try InvocationRecords.load("i1", in: $0, keys: nil) })
            #expect(row.status == .completed && row.worker == "b" && row.attempts == 2)
            #expect(try await queue.depth() == (0, 0))
        }
    }

    @Test func aHeartbeatKeepsTheLease() async throws {
        try await withQueue { _, queue in
            try await queue.register(id: "a", host: "h", pid: 1, memoryMB: 128, slots: 1)
            try await enqueue(queue, "i1")
            _ = try await queue.claim(worker: "a", limit: 1, warm: [], running: 0, lease: 3)
            for _ in 0..<3 {
                try await Task.sleep(for: .seconds(1))
                #expect(try await queue.heartbeat(worker: "a", lease: 3, running: 1, warm: []) == ["i1"])
            }
            // Three seconds after the claim, past its first lease, it is still a's.
            #expect(try await queue.claim(worker: "b", limit: 1, warm: [], running: 0, lease: 1).isEmpty)
        }
    }

    @Test func anInvocationLostOnEveryAttemptFailsWithTheReasonAtItsStartLabel() async throws {
        try await withQueue { store, queue in
            try await enqueue(queue, "i1", maxAttempts: 2)
            for attempt in 1...2 {
                #expect(try await queue.claim(worker: "w\(attempt)", limit: 1, warm: [], running: 0, lease: 0.2).count == 1)
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await queue.claim(worker: "w3", limit: 1, warm: [], running: 0, lease: 1).isEmpty)
            #expect(try await queue.failAbandoned() == ["i1"])
            let row = try #require(try await store.transaction(.read) { try InvocationRecords.load("i1", in: $0, keys: nil) })
            #expect(row.status == .failed && row.attempts == 2 && row.resultLabel == "T,carol")
            #expect(row.failure?.code == "lost", "\(row.failure?.reason ?? "")")
            #expect(try await queue.depth() == (0, 0))
        }
    }

    @Test func aStoppingWorkerGivesItsClaimsBackWithoutSpendingAnAttempt() async throws {
        try await withQueue { store, queue in
            try await enqueue(queue, "i1", maxAttempts: 1)
            _ = try await queue.claim(worker: "a", limit: 1, warm: [], running: 0, lease: 30)
            try await queue.giveBack(["i1"], worker: "a")
            #expect(try await store.transaction(.read) { try InvocationRecords.load("i1", in: $0, keys: nil) }?.status == .queued)
            let again = try await queue.claim(worker: "b", limit: 1, warm: [], running: 0, lease: 30)
            #expect(again.first?.attempt == 1)
        }
    }

    @Test func claimsPreferTheWorkerWithAWarmSandbox() async throws {
        try await withQueue { _, queue in
            try await queue.register(id: "warm", host: "h", pid: 1, memoryMB: 128, slots: 4)
            try await queue.register(id: "cold", host: "h", pid: 2, memoryMB: 128, slots: 4)
            _ = try await queue.heartbeat(worker: "warm", lease: 10, running: 0, warm: ["x"])
            try await enqueue(queue, "for-warm", affinity: "x")
            try await enqueue(queue, "anyone", affinity: "y")
            // The cold worker leaves the warm worker's invocation for it, within the window.
            let cold = try await queue.claim(worker: "cold", limit: 4, warm: [], running: 0, lease: 10, preferenceWindow: 30)
            #expect(cold.map(\.id) == ["anyone"])
            let warm = try await queue.claim(worker: "warm", limit: 4, warm: ["x"], running: 0, lease: 10, preferenceWindow: 30)
            #expect(warm.map(\.id) == ["for-warm"])

            // A warm worker with no free slot is not waited for.
            _ = try await queue.heartbeat(worker: "warm", lease: 10, running: 4, warm: ["x"])
            try await enqueue(queue, "busy-warm", affinity: "x")
            let taken = try await queue.claim(worker: "cold", limit: 4, warm: [], running: 0, lease: 10, preferenceWindow: 30)
            #expect(taken.map(\.id) == ["busy-warm"])
        }
    }

    @Test func concurrentClaimsNeverShareAnInvocation() async throws {
        try await withQueue { _, queue in
            for n in 0..<200 { try await enqueue(queue, "i\(n)") }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await queue.claim(worker: "w\(worker)", limit: 7, warm: [], running: 0, lease: 30)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == 200 && Set(claimed).count == 200)
        }
    }
}
