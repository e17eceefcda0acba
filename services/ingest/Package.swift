// swift-tools-version:6.0
// The ingest service: Alertron's HTTP front door; validates readings and log lines, produces them to readings.
import PackageDescription

/// Products by name: from `shared`, or `package/Product` from another package.
func uses(_ names: String...) -> [Target.Dependency] {
    names.map { name in
        let parts = name.split(separator: "/").map(String.init)
        return .product(name: parts[parts.count - 1], package: parts.count == 2 ? parts[0] : "shared")
    }
}

let package = Package(
    name: "ingest",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ingest", targets: ["IngestCommand"])
    ],
    dependencies: [
        .package(path: "../../shared"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        // zlib from Debian: request bodies sent gzip- or deflate-encoded.
        .systemLibrary(name: "Czlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The service as a library: the command and the tests build on it.
        .target(
            name: "Ingest",
            dependencies: ["Czlib"] + uses("Kafka", "Events", "Telemetry", "MQTT", "hummingbird/Hummingbird")),
        .executableTarget(
            name: "IngestCommand",
            dependencies: ["Ingest"]
                + uses(
                    "Telemetry", "swift-argument-parser/ArgumentParser")),
        .testTarget(
            name: "IngestTests",
            dependencies: ["Ingest"]
                + uses(
                    "Telemetry", "Kafka", "Events", "MQTT", "AlertronTesting", "hummingbird/HummingbirdTesting",
                    "swift-metrics/MetricsTestKit")),
    ]
)
