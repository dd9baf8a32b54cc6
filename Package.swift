// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Faasten",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Labels", targets: ["Labels"]),
        .executable(name: "faasten", targets: ["faasten"]),
        .executable(name: "fstn", targets: ["fstn"]),
        .executable(name: "faasten-bench", targets: ["faasten-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Buckle labels: the algebra every flow check is made of. Depends on nothing of ours.
        .target(
            name: "Labels",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Random labels for property tests, benchmarks and conformance runs.
        .target(name: "LabelSamples", dependencies: ["Labels"]),
        .executableTarget(
            name: "faasten",
            dependencies: [
                "Labels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "fstn",
            dependencies: [
                "Labels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "faasten-bench",
            dependencies: [
                "Labels",
                "LabelSamples",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "LabelsTests",
            dependencies: [
                "Labels",
                "LabelSamples",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // Runs the built executables as a user would; they must be built first
        // (`swift build --build-tests` builds every product).
        .testTarget(name: "CLITests", dependencies: ["Labels", "LabelSamples"]),
    ]
)
