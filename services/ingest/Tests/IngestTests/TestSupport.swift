// Shared pieces of the ingest tests: the app on an in-process broker, and a reader of what it produced.
import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import Logging
import CoreMetrics
import Telemetry
@_exported import AlertronTesting
@testable import Ingest

let quietLogger = testLogger("ingest-tests")

/// A development broker with the `readings` topic.
func testBroker() throws -> TestMesh { try TestMesh(topics: [Topic.readings], clientID: "ingest-tests", logger: quietLogger) }

func makeApp(kafka: KafkaConfiguration, settings: IngestSettings = IngestSettings(),
             metrics: (any MetricsFactory)? = nil) throws -> some ApplicationProtocol {
    var settings = settings
    settings.kafka = kafka
    let runtime = ServiceRuntime(settings: ServiceSettings(serviceName: "ingest"), logger: quietLogger, metricsFactory: metrics)
    return try buildApplication(runtime: runtime, settings: settings)
}

/// A Kafka address that refuses connections at once.
let unreachableKafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")

extension TestClientProtocol {
    /// POSTs `body` with `contentType` (and a token when given) and hands over status, headers and body.
    func post<R>(_ uri: String, _ body: String, contentType: String? = "application/json", token: String? = nil,
                 _ check: @escaping @Sendable (TestResponse) async throws -> R) async throws -> R {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body), testCallback: check)
    }
}

/// The JSON object of a response body.
func json(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
}

let goodReading = #"{"device_id": "edge-1", "temperature": 21.5, "pressure": 1013, "vibration": 0.02}"#
