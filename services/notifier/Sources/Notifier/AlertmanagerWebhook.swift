// POST /v1/alertmanager: Alertmanager's webhook. A valid notification is written to the
// `alertmanager` topic and answered 200 once the broker has it, so a crash after the answer
// loses nothing (the worker reads it from there like an anomaly). 4xx for what a retry cannot
// fix, 5xx only when Alertmanager should retry (it retries 5xx, not 4xx).
import Hummingbird
import Kafka
import Logging
import Telemetry

struct AlertmanagerWebhook: Sendable {
    let producer: KafkaProducer
    let settings: NotifierSettings
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/alertmanager") { request, _ -> Response in
            let response = await handle(request)
            NotifierMetrics.webhookRequests(status: Int(response.status.code)).increment()
            return response
        }
    }

    private func handle(_ request: Request) async -> Response {
        if let token = settings.webhookToken, !BearerToken(token).accepts(authorization: request.headers[.authorization]) {
            return Self.answer(401, code: "unauthorized", "missing or wrong bearer token (Authorization: Bearer <NOTIFIER_WEBHOOK_TOKEN>)",
                               headers: [.wwwAuthenticate: "Bearer"])
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: settings.maxWebhookBytes)
        } catch {
            return Self.answer(413, code: "body_too_large",
                               "the body is larger than \(settings.maxWebhookBytes) bytes; set max_alerts in Alertmanager's webhook_config")
        }
        let bytes = Array(buffer: body)
        let notification: AlertmanagerNotification
        do {
            notification = try AlertmanagerNotification.decode(bytes)
        } catch {
            return Self.answer(400, code: "invalid_payload", "not an Alertmanager webhook payload (version 4): \(error.description)")
        }
        var batch = KafkaProducerBatch(capacity: 1)
        batch.append(topic: settings.alertmanagerTopic, key: notification.groupKey, value: bytes)
        do {
            _ = try await producer.send(batch, within: settings.webhookAckTimeout)
        } catch let error as KafkaError where error.code == .messageTooLarge {
            return Self.answer(413, code: "body_too_large",
                               "the notification is larger than a Kafka message may be; set max_alerts in Alertmanager's webhook_config")
        } catch {
            logger.warning("alertmanager notification not stored; answering 503 so Alertmanager retries", metadata: ["error": "\(error)"])
            return Self.answer(503, code: "kafka_unavailable", "the notification could not be stored; Alertmanager will retry",
                               headers: [.retryAfter: "5"])
        }
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: #"{"status":"accepted","alerts":\#(notification.alerts.count)}"#)))
    }

    private static func answer(_ status: Int, code: String, _ message: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: #"{"error":\#(jsonQuoted(message)),"code":"\#(code)"}"#)))
    }
}
