// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Faasten",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Labels", targets: ["Labels"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "FileSystem", targets: ["FileSystem"]),
        .executable(name: "faasten", targets: ["faasten"]),
        .executable(name: "fstn", targets: ["fstn"]),
        .executable(name: "faasten-bench", targets: ["faasten-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Buckle labels: the algebra every flow check is made of. Depends on nothing of ours.
        .target(
            name: "Labels",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Rows and blobs: the storage protocol, SQLite and PostgreSQL backends, blob stores.
        .target(
            name: "Store",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The labeled file system: objects, SecurityContext, every operation with its flow check.
        .target(name: "FileSystem", dependencies: ["Labels", "Store", "Keys"]),
        // Child processes with exact file descriptors, reaped by pid.
        .target(name: "Processes", dependencies: ["CSystemCalls"]),
        // Linux calls the Swift Glibc module does not expose (GNU extensions).
        .target(name: "CSystemCalls"),
        // The CloudCall wire protocol: generated messages and framing.
        .target(
            name: "CloudCalls",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // The reference monitor: serves one sandbox's CloudCalls with the file system's rules.
        .target(name: "Monitor", dependencies: ["CloudCalls", "FileSystem", "Store", "Labels"]),
        // Master key sources, wrapped data keys, sealing at rest (envelope encryption).
        .target(name: "Keys", dependencies: ["Store", "Processes", .product(name: "Crypto", package: "swift-crypto")]),
        // Isolation backends for guest runtimes: bubblewrap with seccomp and cgroups.
        .target(
            name: "Sandbox",
            dependencies: ["CloudCalls", "Processes", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The invocation engine: gates, the label-keyed sandbox pool, chains, services, records.
        .target(
            name: "Worker",
            dependencies: [
                "FileSystem", "Store", "Keys", "Labels", "Monitor", "Sandbox", "Processes",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The HTTP API: accounts and tokens, the file system, invocations, audit; `faasten serve`.
        // Also the web console (Console/), a client of that API that reuses fstn's advice
        // (FstnKit) and embeds its templates, script and style sheet (Console/Assets).
        .target(
            name: "Gateway",
            dependencies: [
                "Worker", "Keys", "Monitor", "FileSystem", "Store", "Labels", "Sandbox", "JSONValues", "FstnKit",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("Console/Assets")]
        ),
        // Cluster mode: the durable invocation queue on PostgreSQL, its gateway and worker sides.
        .target(
            name: "Cluster",
            dependencies: [
                "Worker", "FileSystem", "Store", "Keys", "Labels", "Monitor",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A JSON value decoded without a schema: the gateway's bodies, fstn's output.
        .target(name: "JSONValues"),
        // A throwaway PostgreSQL server on loopback, for tests and benchmarks.
        .target(name: "LocalPostgres", dependencies: ["Processes"]),
        // Random labels for property tests, benchmarks and conformance runs.
        .target(name: "LabelSamples", dependencies: ["Labels"]),
        .executableTarget(
            name: "faasten",
            dependencies: [
                "Labels",
                "FileSystem",
                "Keys",
                "Store",
                "Monitor",
                "Sandbox",
                "Worker",
                "Gateway",
                "Cluster",
                "Processes",
                "CloudCalls",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP client behind `fstn`: sessions, credentials, requests; no command-line parsing.
        .target(
            name: "FstnKit",
            dependencies: [
                "Labels", "Processes", "JSONValues",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "fstn",
            dependencies: [
                "Labels", "FstnKit", "JSONValues",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "faasten-bench",
            dependencies: [
                "Labels",
                "LabelSamples",
                "FileSystem",
                "Keys",
                "Store",
                "LocalPostgres",
                "Monitor",
                "Sandbox",
                "Worker",
                "Cluster",
                "Processes",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "Gateway",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "LabelsTests",
            dependencies: [
                "Labels",
                "LabelSamples",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Fixtures shared by the test targets: stores on both backends, temporary directories,
        // sandboxes with their monitors, built executables.
        .target(
            name: "FaastenTestSupport",
            dependencies: ["FileSystem", "Store", "Keys", "Labels", "LocalPostgres", "Sandbox", "Monitor", "Processes", "JSONValues"],
            path: "Tests/Support/FaastenTestSupport"
        ),
        // Rows and blobs on both backends, and what a killed writer leaves behind.
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "FileSystem", "Labels", "Processes", "FaastenTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The labeled file system: each rule refused and permitted, on both stores; no-leak properties.
        .testTarget(
            name: "FileSystemTests",
            dependencies: [
                "FileSystem", "Store", "Keys", "Labels", "LabelSamples", "LocalPostgres", "FaastenTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // The reference monitor: every CloudCall from both runtimes, its wire under fuzzing, guests' answers.
        .testTarget(
            name: "MonitorTests",
            dependencies: [
                "Monitor", "CloudCalls", "Sandbox", "FileSystem", "Store", "Labels", "LabelSamples", "JSONValues", "FaastenTestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Isolation: escapes from real sandboxes, the seccomp filter, function images.
        .testTarget(
            name: "SandboxTests",
            dependencies: ["Sandbox", "Monitor", "FileSystem", "Labels", "Processes", "JSONValues", "FaastenTestSupport"]
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "Sandbox", "Monitor", "FileSystem", "Store", "Keys", "Labels", "Processes", "JSONValues", "FaastenTestSupport",
            ]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "Worker", "Sandbox", "FileSystem", "Store", "Keys", "Processes", "JSONValues", "FaastenTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Cluster mode: the queue on a real PostgreSQL server, gateway and worker processes killed mid-work.
        .testTarget(
            name: "ClusterTests",
            dependencies: [
                "Cluster", "Worker", "FileSystem", "Store", "Keys", "Labels", "LocalPostgres", "Processes", "FaastenTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Programs that tests start, watch and kill (e.g. a writer killed mid-transaction).
        .executableTarget(
            name: "faasten-test-helper",
            dependencies: ["FileSystem", "Store", "Labels"],
            path: "Tests/Helpers/faasten-test-helper"
        ),
        // Runs the built executables as a user would; they must be built first
        // (`swift build --build-tests` builds every product).
        .testTarget(
            name: "KeysTests",
            dependencies: ["Keys", "Store", "FaastenTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "CLITests", dependencies: ["Labels", "LabelSamples", "Processes", "LocalPostgres", "JSONValues", "FaastenTestSupport"]),
        // FstnKit's pure parts, and `fstn` against a running `faasten serve` (built first).
        .testTarget(
            name: "FstnTests",
            dependencies: ["FstnKit", "JSONValues", "Processes", "FaastenTestSupport", .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
    ]
)

// A module sees only the members of modules it imports itself (not those an imported
// module happens to import): nothing reaches a module it does not declare.
for target in package.targets where target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}

// The benchmark-only build without label checks (`./dev bench-ifc`, its own scratch
// directory; see `FlowChecks`): `faasten` refuses to run in it.
if Context.environment["FAASTEN_BENCH_ALLOW_ALL"] == "1", let fileSystem = package.targets.first(where: { $0.name == "FileSystem" }) {
    fileSystem.swiftSettings = (fileSystem.swiftSettings ?? []) + [.define("FAASTEN_BENCH_ALLOW_ALL")]
}
