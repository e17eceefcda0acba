// swift-tools-version:6.0
// The scorer service: Scores readings with an Isolation Forest and log lines with a severity classifier; produces scored and anomalies.
import PackageDescription

let package = Package(
    name: "scorer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "scorer", targets: ["ScorerCommand"]),
        // Not part of the service: measures it (make bench).
        .executable(name: "scorer-benchmark", targets: ["ScorerBenchmark"]),
    ],
    dependencies: [
        .package(path: "../../shared"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // The service as a library: the command, the benchmark and the tests build on it.
        .target(
            name: "Scorer",
            dependencies: [
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Models", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ScorerCommand",
            dependencies: [
                "Scorer",
                .product(name: "Models", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ScorerBenchmark",
            dependencies: [
                "Scorer",
                .product(name: "Kafka", package: "shared"),
                .product(name: "KafkaDevelopment", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Models", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ScorerTests",
            dependencies: [
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                "Scorer",
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Models", package: "shared"),
                .product(name: "AlertronTesting", package: "shared"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
