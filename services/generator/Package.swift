// swift-tools-version:6.0
// The generator service: A synthetic device fleet and log replay that feeds the mesh at a chosen rate.
import PackageDescription

/// Products by name: from `shared`, or `package/Product` from another package.
func uses(_ names: String...) -> [Target.Dependency] {
    names.map { name in
        let parts = name.split(separator: "/").map(String.init)
        return .product(name: parts[parts.count - 1], package: parts.count == 2 ? parts[0] : "shared")
    }
}

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
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        // The service as a library: the command, the benchmark and the tests build on it.
        .target(
            name: "Generator",
            dependencies: uses(
                "Kafka", "Events", "Models", "Telemetry", "MQTT", "hummingbird/Hummingbird",
                "swift-service-lifecycle/ServiceLifecycle",
                "swift-service-lifecycle/UnixSignals")),
        .executableTarget(
            name: "GeneratorCommand",
            dependencies: ["Generator"]
                + uses(
                    "Kafka", "Events", "Telemetry", "swift-argument-parser/ArgumentParser",
                    "swift-service-lifecycle/ServiceLifecycle", "swift-service-lifecycle/UnixSignals")),
        .executableTarget(
            name: "GeneratorBenchmark",
            dependencies: ["Generator"]
                + uses(
                    "Kafka", "KafkaDevelopment", "BenchmarkSupport", "Events", "Telemetry",
                    "swift-argument-parser/ArgumentParser",
                    "swift-metrics/CoreMetrics")),
        .testTarget(
            name: "GeneratorTests",
            dependencies: ["Generator"]
                + uses(
                    "Telemetry", "Kafka", "Events", "Models", "MQTT", "AlertronTesting",
                    "swift-service-lifecycle/ServiceLifecycle", "hummingbird/HummingbirdTesting",
                    "swift-metrics/MetricsTestKit")),
    ]
)
