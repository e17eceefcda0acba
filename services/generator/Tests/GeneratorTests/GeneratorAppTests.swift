// The generator service answers its health endpoints and is not ready without its target.
import Foundation
import AlertronTesting
import Hummingbird
import HummingbirdTesting
import Logging
import Kafka
import Testing
import Telemetry
@testable import Generator

@Suite struct GeneratorAppTests {
    @Test func itIsAliveButNotReadyWhileKafkaIsUnreachable() async throws {
        // Port 1 on loopback refuses connections: the Kafka check must fail, quickly. The
        // worker's few readings time out fast, so the producer's shutdown flush does not wait.
        let kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", properties: ["message.timeout.ms": "300"])
        var generator = GeneratorSettings()
        generator.kafka = kafka
        generator.drainTimeout = .zero
        let (app, _) = try buildApplication(
            runtime: ServiceRuntime(settings: ServiceSettings(serviceName: "generator"), logger: quietLogger),
            settings: generator)
        try await expectAliveButNotReady(app, failing: "kafka")
    }

    @Test func withTheHTTPTargetReadinessIsIngestBeingUp() async throws {
        var generator = GeneratorSettings()
        generator.target = .http
        generator.ingestURL = URL(string: "http://127.0.0.1:1")!
        generator.drainTimeout = .zero
        let (app, _) = try buildApplication(
            runtime: ServiceRuntime(settings: ServiceSettings(serviceName: "generator"), logger: quietLogger),
            settings: generator)
        try await expectAliveButNotReady(app, failing: "ingest")
    }
}
