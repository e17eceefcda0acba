// The ingest service's metrics, all alertron_ingest_*; labels are bounded (routes, status codes, reason codes).
import Events
import Metrics
import Kafka
import Telemetry

/// Labelled series are created at 0 at start-up, so rate() sees the first event and
/// dashboards show 0, not No data.
package struct IngestMetrics: Sendable {
    package static let catalog = MetricsCatalog(help: [
        "alertron_ingest_requests_total": "HTTP requests to the ingest routes, by route and status code.",
        "alertron_ingest_request_bytes_total": "Request body bytes received, by route.",
        "alertron_ingest_request_duration_seconds":
            "Time from a request's arrival to its answer, by route (202s wait for the broker).",
        "alertron_ingest_events_produced_total": "Events acknowledged by the broker, by kind (reading, log).",
        "alertron_ingest_rejects_total": "Requests refused, by reason code (the body's `code`).",
        "alertron_ingest_producer_queue_messages": "Messages in the producer's local queue not yet acknowledged.",
        "alertron_ingest_mqtt_messages_total":
            "MQTT messages taken, by topic filter and outcome (produced, dead_lettered, or retained: skipped); counted once Kafka has them.",
        "alertron_ingest_mqtt_connected": "1 while the MQTT session is connected and subscribed, else 0.",
        "alertron_ingest_dead_letters_total":
            "MQTT messages sent to the dead-letter topic because they could not be read, by reason code.",
        "alertron_ingest_mqtt_batch_duration_seconds":
            "Time from taking a batch of MQTT messages to acknowledging it to the broker (Kafka has its events).",
    ]).including(KafkaMetricsHelp.all)

    /// Every route IngestController serves and every status it can answer there: 401 from the
    /// token check (when one is set), 415 only where the Content-Type is read, 413 from the body
    /// limit, the event count or a message Kafka refuses as too large, 500 and 503 from the broker.
    private static let answers: [(route: String, statuses: [Int])] = [
        ("/v1/readings", [202, 400, 401, 413, 415, 500, 503]),
        ("/v1/logs", [200, 202, 400, 401, 413, 415, 500, 503]),
        ("/loki/api/v1/push", [204, 400, 401, 413, 415, 500, 503]),
        ("/ingest", [202, 400, 401, 413, 415, 500, 503]),
        ("/log", [202, 400, 401, 413, 500, 503]),
    ]

    /// The codes ingest refuses with: every decoding error, and those IngestController,
    /// Submission and the token check answer themselves.
    private static let rejectReasons =
        EventError.Code.allCases.map(\.rawValue) + [
            APIError.unauthorized(tokenSetting: "").code, "unsupported_media_type", "body_too_large",
            "body_unreadable", "empty", "too_many_events", "queue_full", "kafka_unavailable", "kafka_error",
            "unsupported_encoding", "bad_encoding", "inflate_failed", "malformed_protobuf", "duplicate_channel",
            "invalid_timestamp", "unknown_topic",
        ]

    /// Why an MQTT message is dead-lettered: what decoding a payload can refuse with.
    static let deadLetterReasons =
        EventError.Code.allCases.map(\.rawValue) + [
            "empty", "too_many_events", "duplicate_channel", "invalid_timestamp", "unknown_topic",
        ]

    private let handles: MetricHandles

    let producerQueue: Gauge
    private let producedReadings: Counter
    private let producedLogs: Counter
    let mqttConnected: Gauge
    let mqttBatchDuration: Timer

    /// `mqttFilters`: the topic filters subscribed to (or that would be, while MQTT is off).
    package init(_ handles: MetricHandles, mqttFilters: [String] = []) {
        self.handles = handles
        producerQueue = handles.gauge("alertron_ingest_producer_queue_messages")
        producedReadings = handles.counter("alertron_ingest_events_produced_total", [("kind", "reading")])
        producedLogs = handles.counter("alertron_ingest_events_produced_total", [("kind", "log")])
        mqttConnected = handles.gauge("alertron_ingest_mqtt_connected")
        mqttBatchDuration = handles.timer("alertron_ingest_mqtt_batch_duration_seconds")
        declareSeries()
        for filter in mqttFilters + (mqttFilters.isEmpty ? [] : ["_other"]) {
            for outcome in ["produced", "dead_lettered", "retained"] {
                _ = handles.counter("alertron_ingest_mqtt_messages_total", [("filter", filter), ("outcome", outcome)])
            }
        }
        if !mqttFilters.isEmpty {
            for reason in Self.deadLetterReasons {
                _ = handles.counter("alertron_ingest_dead_letters_total", [("reason", reason)])
            }
        }
    }

    private func declareSeries() {
        for (route, statuses) in Self.answers {
            for status in statuses {
                _ = handles.counter("alertron_ingest_requests_total", [("route", route), ("status", String(status))])
            }
            _ = handles.counter("alertron_ingest_request_bytes_total", [("route", route)])
            _ = handles.timer("alertron_ingest_request_duration_seconds", [("route", route)])
        }
        for reason in Self.rejectReasons { _ = handles.counter("alertron_ingest_rejects_total", [("reason", reason)]) }
    }

    func produced(readings: Int, logs: Int) {
        if readings > 0 { producedReadings.increment(by: readings) }
        if logs > 0 { producedLogs.increment(by: logs) }
    }

    /// One answered request; `duration` is nil for one refused before its route ran (no token).
    func request(route: String, status: Int, bytes: Int, duration: Duration?) {
        handles.counter("alertron_ingest_requests_total", [("route", route), ("status", String(status))]).increment()
        if bytes > 0 { handles.counter("alertron_ingest_request_bytes_total", [("route", route)]).increment(by: bytes) }
        if let duration {
            handles.timer("alertron_ingest_request_duration_seconds", [("route", route)]).recordInterval(duration)
        }
    }

    /// Unknown reasons (none expected) fold into `other`, so the label stays bounded.
    func deadLettered(reason: String) {
        let reason = Self.deadLetterReasons.contains(reason) ? reason : "other"
        handles.counter("alertron_ingest_dead_letters_total", [("reason", reason)]).increment()
    }

    /// `outcome`: produced, dead_lettered or retained (skipped).
    func mqttMessage(filter: String, outcome: String) {
        handles.counter("alertron_ingest_mqtt_messages_total", [("filter", filter), ("outcome", outcome)]).increment()
    }

    func rejected(_ code: String) {
        handles.counter("alertron_ingest_rejects_total", [("reason", code)]).increment()
    }
}
