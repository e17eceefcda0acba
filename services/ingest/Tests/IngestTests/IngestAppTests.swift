// The ingest service answers its health endpoints and is not ready without Kafka.
import AlertronTesting
import Hummingbird
import HummingbirdTesting
import Logging
import Kafka
import Testing
import Telemetry
@testable import Ingest

@Suite struct IngestAppTests {
    @Test func itIsAliveButNotReadyWhileKafkaIsUnreachable() async throws {
        // Port 1 on loopback refuses connections: the Kafka check must fail, quickly.
        var settings = IngestSettings()
        settings.kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        let app = try buildApplication(
            runtime: ServiceRuntime(
                settings: ServiceSettings(serviceName: "ingest"),
                logger: Logger(label: "ingest-test")),
            settings: settings)
        try await expectAliveButNotReady(app, failing: "kafka")
    }
}
