// swift-tools-version:6.0
// The notifier service: Turns anomalies and Alertmanager webhooks into Slack messages, with nothing lost.
import PackageDescription

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
            dependencies: [
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "NotifierCommand",
            dependencies: [
                "Notifier",
                .product(name: "Telemetry", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "NotifierBenchmark",
            dependencies: [
                "Notifier",
                .product(name: "Kafka", package: "shared"),
                .product(name: "KafkaDevelopment", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "SlackStandIn", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "NotifierTests",
            dependencies: [
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                "Notifier",
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "AlertronTesting", package: "shared"),
                .product(name: "SlackStandIn", package: "shared"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
