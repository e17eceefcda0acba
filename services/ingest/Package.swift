// swift-tools-version:6.0
// The ingest service: Alertron's HTTP front door: validates readings and log lines and produces them to the readings topic.
import PackageDescription

let package = Package(
    name: "ingest",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "ingest", targets: ["IngestCommand"])],
    dependencies: [
        .package(path: "../../shared"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        // The service as a library: the command and the tests build on it.
        .target(
            name: "Ingest",
            dependencies: [
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "IngestCommand",
            dependencies: [
                "Ingest",
                .product(name: "Telemetry", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                "Ingest",
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "AlertronTesting", package: "shared"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
