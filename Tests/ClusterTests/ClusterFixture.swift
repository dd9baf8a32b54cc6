import Cluster
import FaastenTestSupport
import FileSystem
import Keys
import Foundation
import Labels
import LocalPostgres
import Store
import Testing
import Worker

/// A cluster on one machine: a fresh database on the tests' PostgreSQL server, and
/// `faasten gateway` and `faasten worker` processes started and killed as a test needs;
/// `fstn` acts as the user `carol`, who owns the gate `~:work` (clusterwork fixture).
final class ClusterFixture: @unchecked Sendable {
    let url: String
    let directory: TemporaryDirectory
    let config: TemporaryDirectory
    private var launched: [LaunchedProduct] = []
    /// A directory every process keeps blobs in (`--blobs`), or `nil`: in the database.
    var sharedBlobs: String?
    private var count = 0
    /// Seconds a worker's claim lasts: short, so that a killed worker is noticed soon, and
    /// long enough that a loaded machine's late heartbeat does not lose a live worker's claims.
    static let lease = "5"
    static let gatePath = "home:<carol,carol>:work"

    init() throws {
        url = try LocalPostgres.shared().createDatabase(prefix: "cluster")
        directory = try TemporaryDirectory()
        // Sandboxes traverse the workers' image caches inside it.
        chmod(directory.path, 0o711)
        config = try TemporaryDirectory()
    }

    deinit { stopAll() }

    /// Starts a gateway; returns it and its base URL.
    @discardableResult
    func startGateway() throws -> (process: LaunchedProduct, url: String) {
        count += 1
        let process = try LaunchedProduct.start(
            "faasten",
            ["gateway", "--store", url, "--listen", "127.0.0.1:0", "--bcrypt-cost", "4", "--lease", Self.lease, "--data", directory.path,
             "--master-key", directory.path + "/master-key"]
                + (sharedBlobs.map { ["--blobs", $0] } ?? []),
            log: directory.path + "/gateway-\(count).log", ready: "faasten listening on ")
        launched.append(process)
        return (process, process.readyValue(after: "faasten listening on ") ?? "")
    }

    /// Starts a worker running `slots` invocations at once.
    @discardableResult
    func startWorker(slots: Int) throws -> LaunchedProduct {
        count += 1
        let process = try LaunchedProduct.start(
            "faasten",
            [
                "worker", "--store", url, "--lease", Self.lease, "--memory", "1024", "--slots", "\(slots)", "--no-limits",
                "--cache", directory.path + "/cache-\(count)", "--master-key", directory.path + "/master-key",
            ] + (sharedBlobs.map { ["--blobs", $0] } ?? []),
            log: directory.path + "/worker-\(count).log", ready: "serving the queue")
        launched.append(process)
        return process
    }

    /// The lines of every started process's log that contain `text` (for failure messages).
    func logLines(containing text: String) -> [String] {
        launched.flatMap { process in process.log.split(separator: "\n").filter { $0.contains(text) }.map(String.init) }
    }

    func stopAll() {
        for process in launched { process.stop(grace: 5) }
        launched = []
    }

    /// Runs `fstn` against `server`.
    func fstn(_ server: String, _ arguments: [String], input: String = "") throws -> BuiltProducts.Result {
        try BuiltProducts.fstn(arguments, input: input, server: server, config: config.path)
    }

    /// Registers carol and deploys the clusterwork function as `~:work`.
    func deployWork(_ server: String) throws {
        for step in [["register", "carol", "--password-stdin"], ["login", "carol", "--password-stdin"]] {
            let result = try fstn(server, step, input: "carol-password\n")
            try #require(result.status == 0, "\(step): \(result.stderr)")
        }
        let function = TestSandboxes.fixture("clusterwork")
        let deployed = try fstn(server, ["deploy", function, "--path", "~:work"])
        try #require(deployed.status == 0, "deploy: \(deployed.stderr)")
    }

    /// The database, as the tests see it.
    func store() async throws -> PostgresStore {
        try await PostgresStore(location: try PostgresLocation(url: url), connections: 4)
    }

    /// The cluster's key ring (the master key its gateways and workers share), as a
    /// gateway opens it.
    func keys(_ store: PostgresStore) async throws -> KeyRing {
        try await KeyRing.open(store: store, master: .file(directory.path + "/master-key", create: false))
    }

    /// A dispatcher in this process, as a gateway would use it (sealing with the
    /// cluster's keys).
    func dispatcher(_ store: PostgresStore) async throws -> ClusterDispatcher {
        var configuration = ClusterConfiguration()
        configuration.leaseSeconds = Double(Self.lease)!
        let keys = try await keys(store)
        let dispatcher = ClusterDispatcher(
            fileSystem: FileSystem(store: store, keys: keys), queue: try PostgresQueue(store: store, keys: keys), configuration: configuration)
        dispatcher.start()
        return dispatcher
    }

    /// A request from carol to run `~:work` with `payload`.
    static func work(_ payload: String) throws -> InvocationRequest {
        InvocationRequest(target: .path(try FSPath(parsing: gatePath)), invoker: try Privilege(parsing: "carol"), payload: Array(payload.utf8))
    }

    /// Waits until every invocation in `ids` has a final record; returns the records.
    func finished(_ ids: [String], in store: PostgresStore, timeout: Double) async throws -> [String: InvocationRecord] {
        let keys = try await keys(store)
        let deadline = Date().addingTimeInterval(timeout)
        var rows: [String: InvocationRecord] = [:]
        var waiting = Set(ids)
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(500))
            let found = try await store.transaction(.read) { transaction in
                try batch.compactMap { try InvocationRecords.load($0, in: transaction, keys: keys) }.filter(\.status.isFinal)
            }
            for row in found {
                rows[row.id] = row
                waiting.remove(row.id)
            }
            if waiting.isEmpty { break }
            guard Date() < deadline else {
                Issue.record("\(waiting.count) of \(ids.count) invocations did not finish within \(timeout) s")
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return rows
    }

    /// The registered workers by id.
    static func workers(_ store: PostgresStore) async throws -> [String: PostgresQueue.WorkerRecord] {
        Dictionary(uniqueKeysWithValues: try await PostgresQueue(store: store, keys: nil).workers().map { ($0.id, $0) })
    }
}
