import ArgumentParser
import AsyncHTTPClient
import FileSystem
import Foundation
import Gateway
import Hummingbird
import Labels
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle
import Worker

/// `faasten-bench http`: warm invocations of a no-op function through the HTTP API.
struct HTTPBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Warm POST /v1/invoke of a no-op function through the gateway, beside an empty Hummingbird route.",
        discussion: """
            http.invoke: an authenticated POST /v1/invoke/home:<alice,alice>:noop (token check,
            path resolution, the invoke rule, a warm sandbox, the result check, the record) over
            keep-alive HTTP/1.1 connections from AsyncHTTPClient in the same process.
            Baseline, in the same run and process: POST to an empty Hummingbird route on another
            port, with the same client, connections and concurrency.
            """)

    @OptionGroup var options: BenchmarkOptions
    @Option(help: "Seconds each throughput run lasts.") var seconds: Double = 3

    func run() async throws {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let quiet = { () -> Logger in
            var logger = Logger(label: "faasten-bench")
            logger.logLevel = .warning
            return logger
        }()
        let count = options.iterations(3000)
        let duration = options.quick ? min(seconds, 1) : seconds

        let harness = try await InvokeBenchmark.Harness()
        defer { harness.close() }
        let worker = harness.engine(prestarted: 0)
        let keys = try await SigningKeys(directory: harness.directory + "/keys")
        var configuration = GatewayConfiguration()
        configuration.port = 0
        configuration.bcryptCost = 4
        let gateway = try Gateway(
            engine: worker, keys: keys, audit: try AuditLog(store: harness.fileSystem.store), configuration: configuration,
            metrics: registry, logger: quiet)
        _ = try await gateway.accounts.register(name: "alice", password: "alice-bench-password")
        let session = try await gateway.accounts.login(name: "alice", password: "alice-bench-password", address: "bench")

        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let empty = Router()
        empty.post("/empty") { _, _ in Response(status: .ok) }
        let bareApplication = Application(
            router: empty, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: quiet)
        let services = ServiceGroup(
            services: [gateway.application { continuation.yield($0) }, bareApplication], logger: quiet)
        let servers = Task { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        let first = await iterator.next() ?? 0
        let second = await iterator.next() ?? 0
        // Which port is which: the gateway answers /faasten/ping.
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)))
        let gatewayPort = try await Self.isGateway(client, port: first) ? first : second
        let emptyPort = gatewayPort == first ? second : first

        let invoke = Target(url: "http://127.0.0.1:\(gatewayPort)/v1/invoke/home%3A%3Calice%2Calice%3E%3Anoop", token: session.token)
        let bare = Target(url: "http://127.0.0.1:\(emptyPort)/empty", token: nil)
        var report = BenchmarkReport(title: "faasten-bench http (client and server in one process, 2 CPUs)")
        do {
            _ = try await Self.latencies(client, invoke, count: 200)
            _ = try await Self.latencies(client, bare, count: 200)
            let measured = Distribution(try await Self.latencies(client, invoke, count: count))
            let baseline = Distribution(try await Self.latencies(client, bare, count: count))
            report.add("http.invoke.p50", unit: "us", measured.p50, baseline: baseline.p50, target: 1000, note: "empty Hummingbird route")
            report.add("http.invoke.p99", unit: "us", measured.p99, baseline: baseline.p99, note: "empty Hummingbird route")
            // What issue 15's checks add to every request: the start rule on the start label
            // and the clearance capped at what the caller may be shown, against the context
            // the gateway built before (label, privilege, no bound).
            let alice = try Privilege(parsing: "alice")
            let start = try Label(parsing: "T,alice")
            let checks = Stopwatch.compare(
                batches: options.iterations(2000), batchSize: 64,
                subject: { _ in
                    for _ in 0..<64 {
                        blackHole(try? SecurityContext(starting: start, privilege: alice, clearance: try ReleaseCheck.requestClearance(nil, for: alice)))
                    }
                },
                baseline: { _ in for _ in 0..<64 { blackHole(try? SecurityContext(label: start, privilege: alice, clearance: .top)) } })
            report.add(
                "http.request_context.p50", unit: "ns", checks.subject.p50, baseline: checks.baseline.p50,
                note: "start rule and clearance cap, vs the unchecked context")
            report.add(
                "http.invoke.checks_share", unit: "ns", max(0, checks.subject.p50 - checks.baseline.p50), baseline: measured.p50 * 1000,
                note: "added per request, vs http.invoke.p50 in ns (ratio: the share)")
            for connections in [1, 16] {
                let rate = try await Self.throughput(client, invoke, connections: connections, seconds: duration)
                let baseRate = try await Self.throughput(client, bare, connections: connections, seconds: min(duration, 1))
                report.add(
                    "http.invoke.throughput.c\(connections)", unit: "1/s", rate, baseline: baseRate, target: connections == 16 ? 2000 : nil,
                    note: "empty route, \(connections) connection\(connections == 1 ? "" : "s")")
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        await services.triggerGracefulShutdown()
        _ = await servers.result
        await worker.shutdown()
        options.print(report)
        if !options.json {
            print("targets: http.invoke.p50 ≤ 1000 µs; http.invoke.throughput ≥ 2000/s (no-op invocations, 2 cores)")
        }
    }

    struct Target: Sendable {
        let url: String
        let token: String?

        var request: HTTPClientRequest {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            request.body = .bytes(ByteBuffer(string: "{}"))
            return request
        }
    }

    static func isGateway(_ client: HTTPClient, port: Int) async throws -> Bool {
        let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/faasten/ping"), timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1024)
        return response.status == .ok
    }

    static func once(_ client: HTTPClient, _ target: Target) async throws {
        let response = try await client.execute(target.request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw BenchmarkError("\(target.url) answered \(response.status)") }
    }

    static func latencies(_ client: HTTPClient, _ target: Target, count: Int) async throws -> [Double] {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let start = Stopwatch.nanoseconds()
            try await once(client, target)
            samples.append(Double(Stopwatch.nanoseconds() - start) / 1000)
        }
        return samples
    }

    static func throughput(_ client: HTTPClient, _ target: Target, connections: Int, seconds: Double) async throws -> Double {
        let deadline = Stopwatch.nanoseconds() + UInt64(seconds * 1e9)
        let start = Stopwatch.nanoseconds()
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var count = 0
                    while Stopwatch.nanoseconds() < deadline {
                        try await once(client, target)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (Double(Stopwatch.nanoseconds() - start) / 1e9)
    }
}
