// swift-tools-version:6.0
// The scorer service: scores readings (Isolation Forest) and log lines (severity); produces scored and anomalies.
import PackageDescription

/// Products by name: from `shared`, or `package/Product` from another package.
func uses(_ names: String...) -> [Target.Dependency] {
    names.map { name in
        let parts = name.split(separator: "/").map(String.init)
        return .product(name: parts[parts.count - 1], package: parts.count == 2 ? parts[0] : "shared")
    }
}

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
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        // The service as a library: the command, the benchmark and the tests build on it.
        .target(
            name: "Scorer",
            dependencies: uses(
                "Kafka", "Events", "Models", "Telemetry", "hummingbird/Hummingbird",
                "swift-service-lifecycle/ServiceLifecycle",
                "swift-service-lifecycle/UnixSignals")),
        .executableTarget(
            name: "ScorerCommand",
            dependencies: ["Scorer"]
                + uses(
                    "Models", "Telemetry", "swift-argument-parser/ArgumentParser")),
        .executableTarget(
            name: "ScorerBenchmark",
            dependencies: ["Scorer"]
                + uses(
                    "Kafka", "KafkaDevelopment", "BenchmarkSupport", "Telemetry", "Events", "Models",
                    "swift-argument-parser/ArgumentParser", "swift-service-lifecycle/ServiceLifecycle")),
        .testTarget(
            name: "ScorerTests",
            dependencies: ["Scorer"]
                + uses(
                    "Telemetry", "Kafka", "Events", "Models", "AlertronTesting",
                    "swift-service-lifecycle/ServiceLifecycle", "hummingbird/HummingbirdTesting",
                    "swift-metrics/MetricsTestKit")),
    ]
)
