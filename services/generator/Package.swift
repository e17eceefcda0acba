// swift-tools-version:6.0
// The generator service: A synthetic device fleet and log replay that feeds the mesh at a chosen rate.
import PackageDescription

let package = Package(
    name: "generator",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "generator", targets: ["GeneratorCommand"]),
        // Not part of the service: measures it (make bench).
        .executable(name: "generator-benchmark", targets: ["GeneratorBenchmark"]),
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
            name: "Generator",
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
            name: "GeneratorCommand",
            dependencies: [
                "Generator",
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "GeneratorBenchmark",
            dependencies: [
                "Generator",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Kafka", package: "shared"),
                .product(name: "KafkaDevelopment", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "GeneratorTests",
            dependencies: [
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                "Generator",
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
