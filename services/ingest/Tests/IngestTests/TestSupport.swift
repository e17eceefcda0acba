// Shared pieces of the ingest tests: the app on an in-process broker, and a reader of what it produced.
import Events
import Foundation
import Hummingbird
import Testing
import HummingbirdTesting
import Kafka
import Logging
import CoreMetrics
import Telemetry
@_exported import AlertronTesting
@testable import Ingest

let quietLogger = testLogger("ingest-tests")

/// A development broker with the `readings` topic.
func testBroker() throws -> TestMesh {
    try TestMesh(topics: [Topic.readings], clientID: "ingest-tests", logger: quietLogger)
}

func makeApp(
    kafka: KafkaConfiguration, settings: IngestSettings = IngestSettings(),
    metrics: (any MetricsFactory)? = nil
) throws -> some ApplicationProtocol {
    var settings = settings
    settings.kafka = kafka
    let runtime = ServiceRuntime(
        settings: ServiceSettings(serviceName: "ingest"), logger: quietLogger, metricsFactory: metrics)
    return try buildApplication(runtime: runtime, settings: settings)
}

/// For requests that must be refused before anything is produced: the routes run over this
/// instead of a Kafka producer, and a send is a failed test. No broker, no librdkafka client.
struct RefusedRequestsNeverProduce: BatchSending {
    struct Produced: Error {}
    func send(_ batch: KafkaProducerBatch, within deadline: Duration) async throws -> [KafkaDeliveryReport] {
        Issue.record("a request that should have been refused was produced (\(batch.count) messages)")
        throw Produced()
    }
    var queuedMessages: Int { 0 }
}

/// The ingest routes with no Kafka behind them (see RefusedRequestsNeverProduce).
func makeAppWithoutKafka(
    settings: IngestSettings = IngestSettings(), metrics: (any MetricsFactory)? = nil
) -> some ApplicationProtocol {
    let runtime = ServiceRuntime(
        settings: ServiceSettings(serviceName: "ingest"), logger: quietLogger, metricsFactory: metrics)
    return buildApplication(runtime: runtime, settings: settings, producer: RefusedRequestsNeverProduce())
}

/// A Kafka address that refuses connections at once.
let unreachableKafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")

extension TestClientProtocol {
    /// POSTs `body` with `contentType` (and a token when given) and hands over status, headers and body.
    func post<R>(
        _ uri: String, _ body: String, contentType: String? = "application/json", token: String? = nil,
        _ check: @escaping @Sendable (TestResponse) async throws -> R
    ) async throws -> R {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(
            uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body), testCallback: check)
    }
}

/// The JSON object of a response body.
func json(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
}

let goodReading = #"{"device_id": "edge-1", "temperature": 21.5, "pressure": 1013, "vibration": 0.02}"#
