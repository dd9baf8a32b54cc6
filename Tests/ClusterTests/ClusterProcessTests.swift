import Cluster
import FaastenTestSupport
import Foundation
import Labels
import PostgresNIO
import Processes
import Store
import Testing
import Worker

/// Gateways and workers as separate processes on one PostgreSQL server, killed as
/// machines die.
@Suite("cluster: gateways and workers on PostgreSQL", .serialized)
struct ClusterProcessTests {
    @Test func throughputRisesFromOneWorkerToTwo() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        let first = try cluster.startWorker(slots: 1)
        _ = first
        let store = try await cluster.store()
        let dispatcher = try await cluster.dispatcher(store)
        defer { dispatcher.stop() }

        // Each invocation sleeps 0.4 s: a worker with one slot runs 2.5 a second at most.
        func batch(_ tag: Int) async throws -> (seconds: Double, workers: Set<String>) {
            let start = Date()
            var ids: [String] = []
            for n in 0..<6 { ids.append(try await dispatcher.submit(try ClusterFixture.work(#"{"sleep": 0.4, "n": \#(tag * 10 + n)}"#))) }
            let rows = try await cluster.finished(ids, in: store, timeout: 60)
            #expect(rows.values.allSatisfy { $0.status == .completed }, "\(rows.values.map { $0.failure?.reason ?? "" })")
            return (Date().timeIntervalSince(start), Set(rows.values.compactMap(\.worker)))
        }
        let one = try await batch(1)
        try cluster.startWorker(slots: 1)
        let two = try await batch(2)
        #expect(one.workers.count == 1)
        #expect(two.workers.count == 2, "the second worker ran nothing: \(two.workers)")
        // 6 × 0.4 s on one slot (≥ 2.4 s) against 3 × 0.4 s on two (≥ 1.2 s).
        #expect(two.seconds < one.seconds * 0.8, "1 worker: \(one.seconds) s, 2 workers: \(two.seconds) s")
        try await store.close()
    }

    @Test func anInvocationWhoseWorkerIsKilledCompletesOnAnother() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        let workers = [try cluster.startWorker(slots: 1), try cluster.startWorker(slots: 1)]
        let store = try await cluster.store()
        let dispatcher = try await cluster.dispatcher(store)
        defer { dispatcher.stop() }

        let id = try await dispatcher.submit(try ClusterFixture.work(#"{"sleep": 3, "n": 7}"#))
        // Wait until a worker runs it, then kill that worker mid-invocation.
        var holder: String?
        for _ in 0..<100 where holder == nil {
            let row = try await dispatcher.invocation(id)
            if row?.status == .running { holder = row?.worker } else { try await Task.sleep(for: .milliseconds(50)) }
        }
        let first = try #require(holder, "no worker started the invocation")
        let pid = try #require(try await ClusterFixture.workers(store)[first]?.pid)
        let victim = try #require(workers.first { Int($0.child.pid) == pid })
        victim.kill()

        let row = try #require(try await cluster.finished([id], in: store, timeout: 60)[id])
        #expect(row.status == .completed, "\(row.failure?.reason ?? "")")
        #expect(row.worker != first && row.worker != nil)
        #expect(row.attempts == 2)
        #expect(String(decoding: row.result ?? [], as: UTF8.self).contains(#""n": 7"#))
        #expect(try await PostgresQueue(store: store, keys: nil).depth() == (0, 0))
        try await store.close()
    }

    @Test func asynchronousInvocationsAcceptedByAKilledGatewayStillComplete() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        // No worker yet: the gateway only accepts.
        var ids: [String] = []
        for n in 0..<5 {
            let queued = try cluster.fstn(gateway.url, ["invoke", "~:work", #"{"n": \#(n)}"#, "--async"])
            try #require(queued.status == 0, "\(queued.stderr)")
            ids.append(queued.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        gateway.process.kill()

        try cluster.startWorker(slots: 2)
        let store = try await cluster.store()
        let rows = try await cluster.finished(ids, in: store, timeout: 60)
        #expect(rows.count == 5 && rows.values.allSatisfy { $0.status == .completed }, "\(rows.values.map { $0.failure?.reason ?? "" })")

        // Another gateway answers for them: the state is in the database.
        let second = try cluster.startGateway()
        let login = try cluster.fstn(second.url, ["login", "carol", "--password-stdin"], input: "carol-password\n")
        try #require(login.status == 0, "\(login.stderr)")
        let shown = try cluster.fstn(second.url, ["--json", "invocation", ids[3]])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains(#"\"n\": 3"#) || shown.stdout.contains(#""n": 3"#), "\(shown.stdout)")
        // A synchronous call through the new gateway waits for a worker's result, labeled.
        let sync = try cluster.fstn(second.url, ["invoke", "~:work", #"{"n": 42}"#])
        #expect(sync.status == 0, "\(sync.stderr)")
        // Deployed with the defaults, the gate declassifies nothing: the result is carol's own.
        #expect(sync.stdout.contains(#""n": 42"#) && sync.stderr.contains("label carol,T"), "\(sync.stdout) \(sync.stderr)")
        try await store.close()
    }

    @Test func aFunctionsAsynchronousCallGoesThroughTheQueue() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        let deployed = try cluster.fstn(gateway.url, ["deploy", TestSandboxes.fixture("toolkit"), "--path", "~:toolkit"])
        try #require(deployed.status == 0, "\(deployed.stderr)")
        try cluster.startWorker(slots: 2)
        let steps = #"{"steps": [{"call": "home:<carol,carol>:work", "sync": false, "payload": {"n": 9}}, {"call": "home:<carol,carol>:work", "sync": true, "payload": {"n": 10}}]}"#
        let result = try cluster.fstn(gateway.url, ["--json", "invoke", "~:toolkit", steps])
        try #require(result.status == 0, "\(result.stdout) \(result.stderr)")
        // The asynchronous call's id, from the toolkit's report of its first step.
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let body = try #require((report["body"] as? String).flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        let steps0 = try #require(body["results"] as? [[String: Any]])
        let child = try #require(steps0.first?["id"] as? String, "\(steps0)")
        #expect((steps0.last?["data"] as? [String: Any])?["n"] as? Int == 10)

        let store = try await cluster.store()
        let row = try #require(try await cluster.finished([child], in: store, timeout: 60)[child])
        #expect(row.status == .completed && String(decoding: row.result ?? [], as: UTF8.self).contains(#""n": 9"#))
        // Claimed from the queue by a worker (a call run in the caller's process has no claim).
        #expect(row.attempts == 1 && row.worker != nil && row.parent != nil)
        try await store.close()
    }

    @Test func blobsCanLiveInASharedDirectoryInsteadOfTheDatabase() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        cluster.sharedBlobs = cluster.directory.path + "/blobs"
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        try cluster.startWorker(slots: 1)
        let result = try cluster.fstn(gateway.url, ["invoke", "~:work", #"{"n": 5}"#])
        #expect(result.status == 0 && result.stdout.contains(#""n": 5"#), "\(result.stdout) \(result.stderr)")
        let stored = try FileManager.default.subpathsOfDirectory(atPath: cluster.directory.path + "/blobs")
        #expect(!stored.isEmpty, "the function image is not in the shared directory")
    }

    /// Queued requests are sealed and bound to the metadata of their invocation rows
    /// (confidential chaining): whoever writes the database cannot change a request, its
    /// labels, invoker or parent, nor replay it under another id. The worker refuses
    /// each, records why, and runs none of them; an untouched one runs.
    @Test func aQueuedRequestChangedInTheDatabaseIsRefusedAsTamperingAndNeverRuns() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        // No worker yet: the invocations wait in the queue, where someone with write access
        // to the database changes them.
        var ids: [String] = []
        let secret = "queued-secret-\(UUID().uuidString)"
        for n in 0..<6 {
            let queued = try cluster.fstn(gateway.url, ["invoke", "~:work", #"{"n": \#(n), "note": "\#(secret)"}"#, "--async"])
            try #require(queued.status == 0, "\(queued.stderr)")
            ids.append(queued.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let store = try await cluster.store()
        func sql(_ statement: String) async throws {
            try await store.withConnection { connection in
                _ = try connection.query(PostgresQuery(unsafeSQL: statement), logger: .init(label: "test")).wait()
            }
        }
        let requests = try await store.withConnection { connection in
            try connection.query(PostgresQuery(unsafeSQL: "SELECT encode(request, 'escape') FROM queue"), logger: .init(label: "test")).wait()
                .map { try $0.decode(String.self) }
        }
        #expect(requests.count == 6 && !requests.contains { $0.contains(secret) }, "a queued payload is in clear")
        // A byte of the sealed request changed.
        try await sql("UPDATE queue SET request = set_byte(request, length(request) - 1, get_byte(request, length(request) - 1) # 1) WHERE id = '\(ids[0])'")
        // The plaintext metadata changed: alice's integrity claimed; another invoker; another parent.
        try await sql("UPDATE invocations SET start_label = 'T,alice' WHERE id = '\(ids[1])'")
        try await sql("UPDATE invocations SET invoker = 'alice' WHERE id = '\(ids[2])'")
        try await sql("UPDATE invocations SET parent = '\(ids[5])' WHERE id = '\(ids[3])'")
        // Replayed: request 5's bytes under id 4.
        try await sql("UPDATE queue SET request = (SELECT request FROM queue WHERE id = '\(ids[5])') WHERE id = '\(ids[4])'")

        try cluster.startWorker(slots: 1)
        let rows = try await cluster.finished(ids, in: store, timeout: 60)
        for id in ids.prefix(5) {
            let row = try #require(rows[id])
            #expect(row.status == .failed && row.failure?.code == "tampered", "\(id): \(row.status) \(row.failure?.reason ?? "")")
            #expect(row.result == nil, "the function ran")
        }
        #expect(rows[ids[5]]?.status == .completed, "\(rows[ids[5]]?.failure?.reason ?? "")")
        #expect(cluster.logLines(containing: "tampering detected").count >= 5)
        #expect(try await PostgresQueue(store: store, keys: nil).depth() == (0, 0))
        try await store.close()
    }

    static func invocationCount(_ store: PostgresStore) async throws -> Int {
        try await store.withConnection { connection in
            let rows = try connection.query("SELECT count(*) FROM invocations", logger: .init(label: "test")).wait()
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }

    @Test func aRefusedInvocationIsAnsweredAtOnceAndNeverQueued() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        let function = TestSandboxes.fixture("clusterwork")
        let deployed = try cluster.fstn(gateway.url, ["deploy", function, "--path", "~:private", "--invoker-clearance", "carol"])
        try #require(deployed.status == 0, "\(deployed.stderr)")
        for step in [["register", "bob", "--password-stdin"], ["login", "bob", "--password-stdin"]] {
            let result = try cluster.fstn(gateway.url, step, input: "bob-password\n")
            try #require(result.status == 0, "\(result.stderr)")
        }
        // No worker runs: a refusal must not wait for one.
        let refused = try cluster.fstn(gateway.url, ["--user", "bob", "invoke", "home:<carol,carol>:private", "{}"])
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        // Why is labeled with what the resolution saw (carol's home): bob learns only that it was refused.
        #expect(refused.stderr.contains("refused"), "\(refused.stderr)")
        // Asked asynchronously, it is refused as at once (a 202 would be a promise): nothing
        // is queued or recorded.
        let store = try await cluster.store()
        let recordsBefore = try await Self.invocationCount(store)
        let queuedRefusal = try cluster.fstn(gateway.url, ["--user", "bob", "invoke", "home:<carol,carol>:private", "{}", "--async"])
        #expect(queuedRefusal.status == 1 && queuedRefusal.stderr.contains("refused"), "\(queuedRefusal.stderr)")
        #expect(try await PostgresQueue(store: store, keys: nil).depth() == (0, 0))
        #expect(try await Self.invocationCount(store) == recordsBefore)
        // carol may.
        let allowed = try cluster.fstn(gateway.url, ["--user", "carol", "invoke", "~:private", #"{"n": 1}"#, "--async"])
        #expect(allowed.status == 0)
        #expect(try await PostgresQueue(store: store, keys: nil).depth().queued == 1)
        try await store.close()
    }

    @Test func tenThousandQueuedInvocationsEachCompleteExactlyOnce() async throws {
        let cluster = try ClusterFixture()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        try cluster.deployWork(gateway.url)
        let store = try await cluster.store()
        let dispatcher = try await cluster.dispatcher(store)
        defer { dispatcher.stop() }
        let queue = try PostgresQueue(store: store, keys: nil)
        // Every final record is announced once on the done channel: count them per id.
        let announcements = Announcements()
        let listener = queue.listen(PostgresQueue.doneChannel, listening: { announcements.listening() }) { announcements.add($0) }
        defer { listener.cancel() }
        while !announcements.isListening { try await Task.sleep(for: .milliseconds(20)) }

        let total = 10_000
        let ids = try await withThrowingTaskGroup(of: [String].self) { group in
            for part in 0..<16 {
                group.addTask {
                    var ids: [String] = []
                    for n in stride(from: part, to: total, by: 16) {
                        ids.append(try await dispatcher.submit(try ClusterFixture.work(#"{"n": \#(n)}"#)))
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ids).count == total)
        // The workers start with the whole queue waiting.
        try cluster.startWorker(slots: 8)
        try cluster.startWorker(slots: 8)

        let rows = try await cluster.finished(ids, in: store, timeout: 600)
        #expect(rows.count == total)
        #expect(
            rows.values.allSatisfy { $0.status == .completed && $0.attempts == 1 },
            "\(rows.values.filter { $0.attempts != 1 }.count) retried; \(cluster.logLines(containing: "warning").prefix(20))")
        #expect(Set(rows.values.compactMap(\.worker)).count == 2)
        // Each result is the answer to its own request.
        var numbers = Set<Int>()
        for row in rows.values {
            let body = try JSONSerialization.jsonObject(with: Data(row.result ?? [])) as? [String: Any]
            if let n = body?["n"] as? Int { numbers.insert(n) }
        }
        #expect(numbers == Set(0..<total))
        #expect(try await queue.depth() == (0, 0))
        // No duplicate result: one announcement per invocation.
        try await Task.sleep(for: .milliseconds(500))
        let counts = announcements.counts
        #expect(counts.count == total && counts.values.allSatisfy { $0 == 1 }, "\(counts.values.filter { $0 != 1 }.count) ids announced other than once")
        try await store.close()
    }
}

/// Notifications received, per payload.
final class Announcements: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: Int] = [:]
    private var established = false

    func add(_ id: String) { lock.withLock { seen[id, default: 0] += 1 } }
    func listening() { lock.withLock { established = true } }
    var isListening: Bool { lock.withLock { established } }
    var counts: [String: Int] { lock.withLock { seen } }
}
