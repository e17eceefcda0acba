// The Kafka module's metrics, through the swift-metrics API only: the process that
// bootstraps a metrics backend (Telemetry) decides where they go.
import CoreMetrics

public enum KafkaMetrics {
    /// Source-project name, kept for its dashboards and rules.
    static let errors = Counter(label: "kafka_errors_total")
    static let rebalances = Labelled { Counter(label: "alertron_kafka_rebalances_total", dimensions: [("kind", $0)]) }
    static let consumed = Labelled { Counter(label: "kafka_messages_consumed_total", dimensions: [("topic", $0)]) }
    static let produced = Labelled {
        Counter(label: "alertron_kafka_produced_messages_total", dimensions: [("topic", $0)])
    }
    static let deliveryFailures = Counter(label: "alertron_kafka_delivery_failures_total")
    static let producerQueue = Gauge(label: "alertron_kafka_producer_queue_messages")
    static let lag = Labelled { Gauge(label: "alertron_kafka_consumer_lag_messages", dimensions: [("topic", $0)]) }

    /// Makes a client's series at 0 when it is created, before anything happened: a dashboard
    /// reads 0 errors rather than "No data", and rate() sees the first error (it cannot see the
    /// value a series is born with).
    public static func declare(consumedTopics: [String] = []) {
        _ = (errors, deliveryFailures, producerQueue)
        for topic in consumedTopics {
            _ = (consumed[topic], lag[topic])
        }
        if !consumedTopics.isEmpty {
            for kind in KafkaRebalanceEvent.Kind.allCases { _ = rebalances[kind.rawValue] }
        }
    }
}

/// Metrics of one name split by one bounded label (topics, kinds), each created once.
final class Labelled<Metric: Sendable>: Sendable {
    private let make: @Sendable (_ labelValue: String) -> Metric
    private let metrics = Locked<[String: Metric]>([:])

    init(_ make: @escaping @Sendable (_ labelValue: String) -> Metric) {
        self.make = make
    }

    subscript(_ labelValue: String) -> Metric {
        metrics.withLock { metrics in
            if let metric = metrics[labelValue] { return metric }
            let metric = make(labelValue)
            metrics[labelValue] = metric
            return metric
        }
    }
}

/// Help text for every metric this module emits, for the process's metrics catalog.
public enum KafkaMetricsHelp {
    public static let all: [String: String] = [
        "kafka_errors_total": "Errors reported by librdkafka (broker, transport, consumer).",
        "alertron_kafka_rebalances_total": "Consumer-group rebalance events by kind (assigned, revoked, failed).",
        "kafka_messages_consumed_total": "Messages consumed, by topic.",
        "alertron_kafka_produced_messages_total": "Messages acknowledged by the broker, by topic.",
        "alertron_kafka_delivery_failures_total": "Produce batches or messages the broker did not acknowledge.",
        "alertron_kafka_producer_queue_messages": "Messages in the producer's local queue awaiting acknowledgement.",
        "alertron_kafka_consumer_lag_messages": "Messages behind the high watermark on assigned partitions, by topic.",
    ]
}
