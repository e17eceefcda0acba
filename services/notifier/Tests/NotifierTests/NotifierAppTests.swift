// The notifier service answers its health endpoints and is not ready without Kafka.
import Hummingbird
import HummingbirdTesting
import Logging
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
        let app = try buildApplication(runtime: ServiceRuntime(settings: ServiceSettings(serviceName: "notifier"), logger: quietLogger),
                                       settings: settings).application
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains(#""kafka":"#))
            }
        }
    }
}
