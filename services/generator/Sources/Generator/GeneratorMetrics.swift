// The generator's metrics, alertron_generator_*, each with help text; every label value
// comes from a fixed set, so no label grows without bound. Built from the runtime's metric
// factory, so tests can read what was counted.
import Metrics
import Kafka
import Telemetry

package struct GeneratorMetrics: Sendable {
    package static let catalog = MetricsCatalog(help: [
        "alertron_generator_events_total":
            """
        Events the target acknowledged, by kind (reading, log) and anomaly (readings: none, spike, shift, \
        stuck, correlated; log lines: none, critical, unlabeled).
        """,
        "alertron_generator_send_errors_total":
            """
        Failed attempts to deliver a batch, by reason (kafka_<code>, http_<status>, connection); retriable \
        ones are sent again.
        """,
        "alertron_generator_undelivered_events_total":
            "Events given up at shutdown because the target had not acknowledged them within the drain timeout.",
        "alertron_generator_events_per_second": "Events acknowledged per second, over the last second.",
        "alertron_generator_target_events_per_second": "The configured rate (--rate); 0 means as fast as possible.",
        "alertron_generator_delivery_seconds": "Time from sending a batch to its acknowledgement, retries included.",
    ]).including(KafkaMetricsHelp.all)

    private let handles: MetricHandles

    let undelivered: Counter
    let rate: Gauge
    let targetRate: Gauge
    let deliveryLatency: Timer

    package init(_ handles: MetricHandles) {
        self.handles = handles
        undelivered = handles.counter("alertron_generator_undelivered_events_total")
        rate = handles.gauge("alertron_generator_events_per_second")
        targetRate = handles.gauge("alertron_generator_target_events_per_second")
        deliveryLatency = handles.timer("alertron_generator_delivery_seconds")
    }

    func delivered(_ tally: EventTally) {
        for label in EventLabel.allCases where tally[label] > 0 {
            handles.counter("alertron_generator_events_total", [("kind", label.kind), ("anomaly", label.anomaly)])
                .increment(by: tally[label])
        }
    }

    /// Counts a failed attempt; `reason` comes from a fixed set (see the catalog).
    func sendFailed(reason: String) {
        handles.counter("alertron_generator_send_errors_total", [("reason", reason)]).increment()
    }
}
