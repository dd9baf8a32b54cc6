import ArgumentParser
import Cluster
import FileSystem
import Foundation
import LocalPostgres
import Store
import Worker

/// `faasten-bench cluster`: invocations through the durable queue in PostgreSQL, with one
/// and two workers, beside the embedded in-process dispatcher.
struct ClusterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Invocations of a no-op Python function through the cluster's queue, with 1 and 2 workers.",
        discussion: """
            A PostgreSQL server on loopback (started and stopped by the run) holds the file system
            and the queue. Each worker has its own store connections and sandbox pool, as a worker
            process would, in this process. cluster.latency.w1: one synchronous caller through a
            gateway's dispatcher (admission, enqueue, a worker's claim, the run, the record, the
            notification). cluster.throughput.wN: --callers synchronous callers for --seconds with N
            workers of --slots slots. Baseline, in the same run: the embedded in-process dispatcher
            (a Engine on SQLite) under the same load.
            """
    )

    @OptionGroup var options: BenchmarkOptions
    @Option(help: "Seconds each throughput run lasts.") var seconds: Double = 5
    @Option(help: "Concurrent synchronous callers in the throughput runs.") var callers: Int = 32
    @Option(help: "Invocations each worker runs at once.") var slots: Int = 16

    func run() async throws {
        let latencyCount = options.iterations(2000)
        let duration = options.quick ? min(seconds, 1) : seconds
        var report = BenchmarkReport(title: "faasten-bench cluster (\(callers) callers, \(slots) slots a worker, one machine)")

        // The embedded baseline: a Engine over SQLite, called in-process.
        let embedded = try await InvokeBenchmark.Harness()
        defer { embedded.close() }
        let local = embedded.engine(prestarted: 0)
        let localLatency = Distribution(try await embedded.serialLatencies(local, gate: "noop", count: latencyCount, warmUp: 200))
        let localRate = try await embedded.throughput(local, gate: "noop", callers: callers, seconds: duration)
        await local.shutdown()

        let postgres = try LocalPostgres()
        defer { postgres.stop() }
        let url = try postgres.createDatabase(prefix: "bench")
        let location = try PostgresLocation(url: url)
        let gatewayStore = try await PostgresStore(location: location, connections: 16)
        let harness = try await InvokeBenchmark.Harness(store: gatewayStore)
        defer { harness.close() }
        var configuration = ClusterConfiguration()
        configuration.slots = slots
        let dispatcher = ClusterDispatcher(
            fileSystem: harness.fileSystem, queue: try PostgresQueue(store: gatewayStore, keys: nil), configuration: configuration)
        dispatcher.start()

        var members: [(member: ClusterWorker, store: PostgresStore, task: Task<Void, any Error>)] = []
        func addWorker() async throws {
            let store = try await PostgresStore(location: location, connections: 8)
            let worker = harness.engine(prestarted: 0, fileSystem: FileSystem(store: store))
            let member = ClusterWorker(engine: worker, queue: try PostgresQueue(store: store, keys: nil), configuration: configuration)
            members.append((member, store, Task { try await member.run() }))
        }

        try await addWorker()
        let latency = Distribution(try await harness.serialLatencies(dispatcher, gate: "noop", count: latencyCount, warmUp: 200))
        let one = try await harness.throughput(dispatcher, gate: "noop", callers: callers, seconds: duration)
        try await addWorker()
        let two = try await harness.throughput(dispatcher, gate: "noop", callers: callers, seconds: duration)

        for (member, store, task) in members {
            member.stop()
            _ = try? await task.value
            try? await store.close()
        }
        dispatcher.stop()
        try? await gatewayStore.close()

        report.add("cluster.latency.w1.p50", unit: "us", latency.p50, baseline: localLatency.p50, note: "embedded dispatcher, SQLite")
        report.add("cluster.latency.w1.p99", unit: "us", latency.p99, baseline: localLatency.p99, note: "embedded dispatcher, SQLite")
        report.add("cluster.throughput.w1", unit: "1/s", one, baseline: localRate, note: "embedded dispatcher, SQLite")
        report.add("cluster.throughput.w2", unit: "1/s", two, baseline: localRate, note: "embedded dispatcher, SQLite")
        options.print(report)
    }
}
