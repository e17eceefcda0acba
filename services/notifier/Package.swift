// swift-tools-version:6.0
// The notifier service: Turns anomalies and Alertmanager webhooks into Slack messages, with nothing lost.
import PackageDescription

/// Products by name: from `shared`, or `package/Product` from another package.
func uses(_ names: String...) -> [Target.Dependency] {
    names.map { name in
        let parts = name.split(separator: "/").map(String.init)
        return .product(name: parts[parts.count - 1], package: parts.count == 2 ? parts[0] : "shared")
    }
}

let package = Package(
    name: "notifier",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "notifier", targets: ["NotifierCommand"]),
        // Not part of the service: measures it (make bench).
        .executable(name: "notifier-benchmark", targets: ["NotifierBenchmark"]),
    ],
    dependencies: [
        .package(path: "../../shared"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        // The service as a library: the command, the benchmark and the tests build on it.
        .target(
            name: "Notifier",
            dependencies: uses(
                "Kafka", "Events", "Telemetry", "SlackSignature", "hummingbird/Hummingbird",
                "swift-service-lifecycle/ServiceLifecycle",
                "swift-log/Logging", "swift-metrics/Metrics")),
        .executableTarget(
            name: "NotifierCommand",
            dependencies: ["Notifier"]
                + uses(
                    "Telemetry", "swift-argument-parser/ArgumentParser")),
        .executableTarget(
            name: "NotifierBenchmark",
            dependencies: ["Notifier"]
                + uses(
                    "Kafka", "KafkaDevelopment", "BenchmarkSupport", "Events", "Telemetry", "SlackStandIn",
                    "swift-argument-parser/ArgumentParser", "swift-service-lifecycle/ServiceLifecycle",
                    "swift-log/Logging")),
        .testTarget(
            name: "NotifierTests",
            dependencies: ["Notifier"]
                + uses(
                    "Telemetry", "Kafka", "Events", "AlertronTesting", "SlackStandIn", "SlackSignature",
                    "hummingbird/HummingbirdTesting", "swift-metrics/MetricsTestKit")),
    ]
)
