// The scorer's metrics: the source project's names (its dashboards and rules use them) and
// alertron_scorer_* for the rest. device_id values beyond a cap fold into "_other".
import Events
import Metrics
import Kafka
import Synchronization
import Telemetry

package enum ScorerMetrics {
    package static let catalog = MetricsCatalog(help: [
        "anomaly_count_total": "Events judged anomalous, by severity and device (device_id capped; the rest are _other).",
        "last_anomaly_score": "Score of the most recent anomalous event.",
        "inference_latency_seconds": "Time to score one batch with the model.",
        "predictions_total": "Events scored.",
        "alertron_scorer_batch_events": "Events per consumed batch.",
        "alertron_scorer_dead_letters_total": "Messages sent to the dead-letter topic, by reason code.",
        "log_severity_total": "Log lines classified, by severity (critical or none).",
        "alertron_scorer_log_classification_seconds": "Time to classify the log lines of one batch.",
        "alertron_scorer_model_info": "1 for the version of each model (sensor, log) in service, 0 for versions it replaced.",
        "alertron_scorer_model_reload_failures_total": "Model files that failed to load, by model (the previous model kept serving).",
        "alertron_scorer_produce_retries_total": "Output batches sent again after a failed delivery.",
        "alertron_scorer_out_of_range_total": "Readings flagged critical because a feature lay far outside the model's training range.",
    ]).including(KafkaMetricsHelp.all)

    static let lastAnomalyScore = Gauge(label: "last_anomaly_score")
    static let inferenceLatency = Timer(label: "inference_latency_seconds")
    static let predictions = Counter(label: "predictions_total")
    static let batchSize = Recorder(label: "alertron_scorer_batch_events")
    static let logClassificationLatency = Timer(label: "alertron_scorer_log_classification_seconds")
    static let criticalLogs = Counter(label: "log_severity_total", dimensions: [("severity", Severity.critical.rawValue)])
    static let routineLogs = Counter(label: "log_severity_total", dimensions: [("severity", Severity.none.rawValue)])
    static let produceRetries = Counter(label: "alertron_scorer_produce_retries_total")
    static let outOfRange = Counter(label: "alertron_scorer_out_of_range_total")

    private static let deadLetters = Mutex<[String: Counter]>([:])

    static func deadLettered(reason: String, count: Int = 1) {
        deadLetters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: "alertron_scorer_dead_letters_total", dimensions: [("reason", reason)])
            counters[reason] = counter
            return counter
        }.increment(by: count)
    }

    static func modelLoaded(kind: String, version: String, replacing previous: String?) {
        if let previous, previous != version {
            Gauge(label: "alertron_scorer_model_info", dimensions: [("model", kind), ("version", previous)]).record(0)
        }
        Gauge(label: "alertron_scorer_model_info", dimensions: [("model", kind), ("version", version)]).record(1)
    }

    static func modelReloadFailed(kind: String) {
        Counter(label: "alertron_scorer_model_reload_failures_total", dimensions: [("model", kind)]).increment()
    }
}

/// anomaly_count_total{severity, device_id}, with at most `cap` distinct devices.
final class AnomalyCounters: Sendable {
    private let cap: Int
    private let counters = Mutex<[String: Counter]>([:])
    private let devices = Mutex<Set<String>>([])

    init(cap: Int) { self.cap = cap }

    func count(severity: Severity, device: String) {
        let label = devices.withLock { seen -> String in
            if seen.contains(device) { return device }
            guard seen.count < cap else { return "_other" }
            seen.insert(device)
            return device
        }
        let key = severity.rawValue + "\u{0}" + label
        counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "anomaly_count_total", dimensions: [("severity", severity.rawValue), ("device_id", label)])
            counters[key] = counter
            return counter
        }.increment()
    }
}
