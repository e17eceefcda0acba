// The ingest service's metrics, all alertron_ingest_*; labels are bounded (routes, status codes, reason codes).
import Metrics
import Kafka
import Synchronization
import Telemetry

package enum IngestMetrics {
    package static let catalog = MetricsCatalog(help: [
        "alertron_ingest_requests_total": "HTTP requests to the ingest routes, by route and status code.",
        "alertron_ingest_request_bytes_total": "Request body bytes received, by route.",
        "alertron_ingest_request_duration_seconds": "Time from a request's arrival to its answer, by route (202s wait for the broker).",
        "alertron_ingest_events_produced_total": "Events acknowledged by the broker, by kind (reading, log).",
        "alertron_ingest_rejects_total": "Requests refused, by reason code (the body's `code`).",
        "alertron_ingest_producer_queue_messages": "Messages in the producer's local queue not yet acknowledged.",
    ]).including(KafkaMetricsHelp.all)

    static let producerQueue = Gauge(label: "alertron_ingest_producer_queue_messages")
    static let producedReadings = Counter(label: "alertron_ingest_events_produced_total", dimensions: [("kind", "reading")])
    static let producedLogs = Counter(label: "alertron_ingest_events_produced_total", dimensions: [("kind", "log")])

    private static let counters = Mutex<[String: Counter]>([:])
    private static let timers = Mutex<[String: Timer]>([:])

    static func request(route: String, status: Int, bytes: Int, duration: Duration) {
        counter("alertron_ingest_requests_total", [("route", route), ("status", String(status))]).increment()
        if bytes > 0 { counter("alertron_ingest_request_bytes_total", [("route", route)]).increment(by: bytes) }
        timers.withLock { timers in
            if let timer = timers[route] { return timer }
            let timer = Timer(label: "alertron_ingest_request_duration_seconds", dimensions: [("route", route)])
            timers[route] = timer
            return timer
        }.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    static func rejected(_ code: String) {
        counter("alertron_ingest_rejects_total", [("reason", code)]).increment()
    }

    private static func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = label + dimensions.map { "\u{0}\($0.1)" }.joined()
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: label, dimensions: dimensions)
            counters[key] = counter
            return counter
        }
    }
}
