// The notifier service answers its health endpoints and is not ready without Kafka.
import AlertronTesting
import Hummingbird
import HummingbirdTesting
import Logging
import MetricsTestKit
import Kafka
import Testing
import Telemetry
@testable import Notifier

@Suite struct NotifierAppTests {
    @Test func itIsAliveButNotReadyWhileKafkaIsUnreachable() async throws {
        // Port 1 on loopback refuses connections: the Kafka check must fail, quickly.
        var settings = NotifierSettings()
        settings.kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        settings.slackSinkFile = "/dev/null"
        let app = try buildApplication(
            runtime: ServiceRuntime(settings: ServiceSettings(serviceName: "notifier"), logger: quietLogger),
            settings: settings
        ).application
        try await expectAliveButNotReady(app, failing: "kafka")
    }

    @Test func webhookAnswersAreCountedByStatus() async throws {
        var settings = NotifierSettings()
        settings.kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        settings.slackSinkFile = "/dev/null"
        settings.webhookToken = "s3cret"
        let metrics = TestMetrics()
        let runtime = ServiceRuntime(
            settings: ServiceSettings(serviceName: "notifier"), logger: quietLogger, metricsFactory: metrics)
        let app = try buildApplication(runtime: runtime, settings: settings).application
        try await app.test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/alertmanager", method: .post, body: ByteBuffer(string: "{}")) {
                    #expect($0.status == .unauthorized)
                }
            }
        }
        #expect(
            metrics.total("alertron_notifier_webhook_requests_total", ("status", "401")) == 2)
    }
}
