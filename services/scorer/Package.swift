// swift-tools-version:6.0
// The scorer service: Scores readings with an Isolation Forest and log lines with a severity classifier; produces scored and anomalies.
import PackageDescription

let package = Package(
    name: "scorer",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "scorer", targets: ["Scorer"])],
    dependencies: [
        .package(path: "../../shared"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "Scorer",
            dependencies: [
                .product(name: "Kafka", package: "shared"),
                .product(name: "Events", package: "shared"),
                .product(name: "Telemetry", package: "shared"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ScorerTests",
            dependencies: [
                "Scorer",
                .product(name: "Telemetry", package: "shared"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
