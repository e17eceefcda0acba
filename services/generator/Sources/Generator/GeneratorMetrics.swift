// The generator's metrics, alertron_generator_*, each with help text; every label value
// comes from a fixed set, so no label grows without bound. Built from the runtime's metric
// factory, so tests can read what was counted.
import Metrics
import Kafka
import Telemetry

/// Labelled series are created at 0 at start-up, so rate() sees the first event and
/// dashboards show 0, not No data.
package struct GeneratorMetrics: Sendable {
    package static let catalog = MetricsCatalog(help: [
        "alertron_generator_events_total":
            """
        Events the target acknowledged, by kind (reading, log) and anomaly (readings: none, spike, shift, \
        stuck, correlated, drift; log lines: none, critical, unlabeled).
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

    /// IngestClient's reasons, and `kafka_<code>` for each code KafkaProducer.send throws that
    /// KafkaSink counts (`shut_down` abandons the batch instead). A run has one target, so the
    /// other's reasons stay at 0.
    private static let sendErrorReasons =
        IngestClient.failureReasons
        + [KafkaError.Code.queueFull, .deliveryFailed, .timedOut, .messageTooLarge, .fatal].map {
            "kafka_\($0.rawValue)"
        }

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
        for label in EventLabel.allCases { _ = eventsCounter(label) }
        for reason in Self.sendErrorReasons {
            _ = handles.counter("alertron_generator_send_errors_total", [("reason", reason)])
        }
    }

    private func eventsCounter(_ label: EventLabel) -> Counter {
        handles.counter("alertron_generator_events_total", [("kind", label.kind), ("anomaly", label.anomaly)])
    }

    func delivered(_ tally: EventTally) {
        for label in EventLabel.allCases where tally[label] > 0 {
            eventsCounter(label).increment(by: tally[label])
        }
    }

    /// Counts a failed attempt; `reason` comes from a fixed set (see the catalog).
    func sendFailed(reason: String) {
        handles.counter("alertron_generator_send_errors_total", [("reason", reason)]).increment()
    }
}
