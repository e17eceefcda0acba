// The ingest service's metrics, all alertron_ingest_*; labels are bounded (routes, status codes, reason codes).
import Metrics
import Kafka
import Telemetry

package struct IngestMetrics: Sendable {
    package static let catalog = MetricsCatalog(help: [
        "alertron_ingest_requests_total": "HTTP requests to the ingest routes, by route and status code.",
        "alertron_ingest_request_bytes_total": "Request body bytes received, by route.",
        "alertron_ingest_request_duration_seconds":
            "Time from a request's arrival to its answer, by route (202s wait for the broker).",
        "alertron_ingest_events_produced_total": "Events acknowledged by the broker, by kind (reading, log).",
        "alertron_ingest_rejects_total": "Requests refused, by reason code (the body's `code`).",
        "alertron_ingest_producer_queue_messages": "Messages in the producer's local queue not yet acknowledged.",
    ]).including(KafkaMetricsHelp.all)

    private let handles: MetricHandles

    let producerQueue: Gauge
    private let producedReadings: Counter
    private let producedLogs: Counter

    package init(_ handles: MetricHandles) {
        self.handles = handles
        producerQueue = handles.gauge("alertron_ingest_producer_queue_messages")
        producedReadings = handles.counter("alertron_ingest_events_produced_total", [("kind", "reading")])
        producedLogs = handles.counter("alertron_ingest_events_produced_total", [("kind", "log")])
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

    func rejected(_ code: String) {
        handles.counter("alertron_ingest_rejects_total", [("reason", code)]).increment()
    }
}
