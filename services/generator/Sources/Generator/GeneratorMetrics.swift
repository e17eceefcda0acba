// The generator's metrics, alertron_generator_*, each with help text; every label value
// comes from a fixed set, so no label grows without bound.
import Metrics
import Kafka
import Synchronization
import Telemetry

package enum GeneratorMetrics {
    package static let catalog = MetricsCatalog(help: [
        "alertron_generator_events_total":
            "Events the target acknowledged, by kind (reading, log) and anomaly (readings: none, spike, shift, stuck, correlated; log lines: none, critical, unlabeled).",
        "alertron_generator_send_errors_total":
            "Failed attempts to deliver a batch, by reason (kafka_<code>, http_<status>, connection); retriable ones are sent again.",
        "alertron_generator_undelivered_events_total":
            "Events given up at shutdown because the target had not acknowledged them within the drain timeout.",
        "alertron_generator_events_per_second": "Events acknowledged per second, over the last second.",
        "alertron_generator_target_events_per_second": "The configured rate (--rate); 0 means as fast as possible.",
        "alertron_generator_delivery_seconds": "Time from sending a batch to its acknowledgement, retries included.",
    ]).including(KafkaMetricsHelp.all)

    private static let events: [Counter] = EventLabel.allCases.map { label in
        Counter(label: "alertron_generator_events_total", dimensions: [("kind", label.kind), ("anomaly", label.anomaly)])
    }
    static let undelivered = Counter(label: "alertron_generator_undelivered_events_total")
    static let rate = Gauge(label: "alertron_generator_events_per_second")
    static let targetRate = Gauge(label: "alertron_generator_target_events_per_second")
    static let deliveryLatency = Timer(label: "alertron_generator_delivery_seconds")

    static func delivered(_ tally: EventTally) {
        for label in EventLabel.allCases where tally[label] > 0 { events[label.rawValue].increment(by: tally[label]) }
    }

    private static let sendErrors = Mutex<[String: Counter]>([:])

    /// Counts a failed attempt; `reason` comes from a fixed set (see the catalog).
    static func sendFailed(reason: String) {
        sendErrors.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: "alertron_generator_send_errors_total", dimensions: [("reason", reason)])
            counters[reason] = counter
            return counter
        }.increment()
    }
}

extension Timer {
    func recordInterval(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
