// The Kafka module's metrics, through the swift-metrics API only: the process that
// bootstraps a metrics backend (Telemetry) decides where they go.
import CoreMetrics

enum KafkaMetrics {
    /// Source-project name, kept for its dashboards and rules.
    static let errors = Counter(label: "kafka_errors_total")
    static let rebalances = LabelledCounters(label: "alertron_kafka_rebalances_total", dimension: "kind")
    static let consumed = LabelledCounters(label: "kafka_messages_consumed_total", dimension: "topic")
    static let produced = LabelledCounters(label: "alertron_kafka_produced_messages_total", dimension: "topic")
    static let deliveryFailures = Counter(label: "alertron_kafka_delivery_failures_total")
    static let producerQueue = Gauge(label: "alertron_kafka_producer_queue_messages")
    static let lag = LabelledGauges(label: "alertron_kafka_consumer_lag_messages", dimension: "topic")
}

/// Counters of one name split by one bounded label (topics, kinds), each created once.
final class LabelledCounters: Sendable {
    private let label: String
    private let dimension: String
    private let counters = Locked<[String: Counter]>([:])

    init(label: String, dimension: String) {
        self.label = label
        self.dimension = dimension
    }

    func increment(_ value: String, by amount: Int = 1) {
        counters.withLock { counters in
            if let counter = counters[value] { return counter }
            let counter = Counter(label: label, dimensions: [(dimension, value)])
            counters[value] = counter
            return counter
        }.increment(by: amount)
    }
}

/// Gauges of one name split by one bounded label.
final class LabelledGauges: Sendable {
    private let label: String
    private let dimension: String
    private let gauges = Locked<[String: Gauge]>([:])

    init(label: String, dimension: String) {
        self.label = label
        self.dimension = dimension
    }

    func record(_ value: String, _ amount: Int64) {
        gauges.withLock { gauges in
            if let gauge = gauges[value] { return gauge }
            let gauge = Gauge(label: label, dimensions: [(dimension, value)])
            gauges[value] = gauge
            return gauge
        }.record(amount)
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
