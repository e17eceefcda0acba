// swift-tools-version:6.0
// Alertron's common package: Kafka over librdkafka, event schemas, telemetry and the
// local development broker. Every service depends on it by relative path.
import PackageDescription

let package = Package(
    name: "shared",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "Events", targets: ["Events"]),
        .library(name: "Telemetry", targets: ["Telemetry"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Settings", targets: ["Settings"]),
        // An MQTT 3.1.1 client that acknowledges a message only when its receiver says so.
        .library(name: "MQTT", targets: ["MQTT"]),
        // librdkafka's in-process mock cluster: for the development broker, tests and benchmarks,
        // never linked into a service's production binary.
        .library(name: "KafkaDevelopment", targets: ["KafkaDevelopment"]),
        // Reporting helpers of the benchmark executables; not part of any service.
        .library(name: "BenchmarkSupport", targets: ["BenchmarkSupport"]),
        // Helpers for tests (waiting with deadlines, a thread of their own for tests that block or
        // compute for long), shared by every package's test targets.
        .library(name: "AlertronTesting", targets: ["AlertronTesting"]),
        // A local server that speaks Slack's API contract, for tests and `make run`.
        .library(name: "SlackStandIn", targets: ["SlackStandIn"]),
        // Slack's request signing: the notifier verifies interactions, the stand-in signs them.
        .library(name: "SlackSignature", targets: ["SlackSignature"]),
        .executable(name: "alertron-slack-standin", targets: ["SlackStandInCommand"]),
        .executable(name: "alertron-devbroker", targets: ["DevBroker"]),
        .executable(name: "alertron-bench", targets: ["AlertronBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(
            name: "Crdkafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Settings declared once (flag, environment variable, default, help); no dependencies.
        .target(name: "Settings"),
        .target(
            name: "Kafka",
            dependencies: [
                "Crdkafka", "Settings",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "KafkaDevelopment",
            dependencies: ["Kafka", "Crdkafka", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "MQTT",
            dependencies: [
                "Settings", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .target(name: "BenchmarkSupport"),
        .target(name: "Events"),
        .target(name: "Models", dependencies: ["Events"]),
        .target(
            name: "AlertronTesting",
            dependencies: [
                "Kafka", "KafkaDevelopment", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .target(
            name: "Telemetry",
            dependencies: [
                "Events", "Settings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "DevBroker",
            dependencies: [
                "Kafka", "KafkaDevelopment", "Telemetry", "Events",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "SlackSignature", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "SlackStandIn",
            dependencies: ["SlackSignature", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .executableTarget(
            name: "SlackStandInCommand",
            dependencies: [
                "SlackStandIn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "AlertronBench",
            dependencies: [
                "Kafka", "KafkaDevelopment", "Events", "Models", "BenchmarkSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EventsTests", dependencies: ["Events", "Models", "AlertronTesting"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Events", "AlertronTesting"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "AlertronTesting"]),
        // Runs Debian's mosquitto broker (scripts/deps.sh installs it) on a free port.
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "AlertronTesting"]),
        // Runs the built alertron-devbroker executable; `swift build --build-tests` builds it first.
        .testTarget(name: "DevBrokerTests", dependencies: ["Kafka", "AlertronTesting"]),
        .testTarget(
            name: "SlackStandInTests",
            dependencies: [
                "SlackStandIn", "SlackSignature", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "TelemetryTests",
            dependencies: [
                "Telemetry", "Kafka", "AlertronTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
