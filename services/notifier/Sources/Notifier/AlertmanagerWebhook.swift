// POST /v1/alertmanager: Alertmanager's webhook. A valid notification is written to the
// `alertmanager` topic and answered 200 once the broker has it, so a crash after the answer
// loses nothing (the worker reads it from there like an anomaly). 4xx for what a retry cannot
// fix, 5xx only when Alertmanager should retry (it retries 5xx, not 4xx).
import Hummingbird
import Kafka
import Logging
import Telemetry

struct AlertmanagerWebhook: Sendable {
    let producer: any BatchSending
    let settings: NotifierSettings
    let metrics: NotifierMetrics
    let logger: Logger

    /// POST /v1/alertmanager, behind the bearer token when one is set.
    var routes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.add(
            middleware: BearerTokenMiddleware(token: settings.webhookToken, tokenSetting: "NOTIFIER_WEBHOOK_TOKEN") {
                [metrics] _ in
                metrics.webhookRequests(status: 401).increment()
            })
        routes.post("/v1/alertmanager") { request, _ -> Response in
            let response = await handle(request)
            metrics.webhookRequests(status: Int(response.status.code)).increment()
            return response
        }
        return routes
    }

    private func handle(_ request: Request) async -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: settings.maxWebhookBytes)
        } catch {
            return APIError(
                status: 413, code: "body_too_large",
                message:
                    """
                    the body is larger than \(settings.maxWebhookBytes) bytes; set max_alerts in Alertmanager's \
                    webhook_config
                    """
            )
            .response
        }
        let bytes = Array(buffer: body)
        let notification: AlertmanagerNotification
        do {
            notification = try AlertmanagerNotification.decode(bytes)
        } catch {
            return APIError.badRequest(
                "invalid_payload", "not an Alertmanager webhook payload (version 4): \(error.description)"
            ).response
        }
        var batch = KafkaProducerBatch(capacity: 1)
        batch.append(topic: settings.alertmanagerTopic, key: notification.groupKey, value: bytes)
        do {
            _ = try await producer.send(batch, within: settings.webhookAckTimeout)
        } catch let error as KafkaError where error.code == .messageTooLarge {
            return APIError(
                status: 413, code: "body_too_large",
                message:
                    """
                    the notification is larger than a Kafka message may be; set max_alerts in Alertmanager's \
                    webhook_config
                    """
            )
            .response
        } catch {
            logger.warning(
                "alertmanager notification not stored; answering 503 so Alertmanager retries",
                metadata: ["error": "\(error)"])
            return APIError(
                status: 503, code: "kafka_unavailable",
                message: "the notification could not be stored; Alertmanager will retry",
                retryAfter: 5
            ).response
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(
                byteBuffer: ByteBuffer(string: #"{"status":"accepted","alerts":\#(notification.alerts.count)}"#)))
    }
}
