// The scorer's metrics: the source project's names (its dashboards and rules use them) and
// alertron_scorer_* for the rest. device_id values beyond a cap fold into "_other".
// Built from the runtime's metric factory, so tests can read what was counted.
import Events
import Metrics
import Kafka
import Synchronization
import Telemetry

package final class ScorerMetrics: Sendable {
    package static let catalog = MetricsCatalog(help: [
        "anomaly_count_total":
            "Events judged anomalous, by severity and device (device_id capped; the rest are _other).",
        "last_anomaly_score": "Score of the most recent anomalous event.",
        "inference_latency_seconds": "Time to score one batch with the model.",
        "predictions_total": "Events scored.",
        "alertron_scorer_batch_events": "Events per consumed batch.",
        "alertron_scorer_dead_letters_total": "Messages sent to the dead-letter topic, by reason code.",
        "log_severity_total": "Log lines classified, by severity (critical or none).",
        "alertron_scorer_log_classification_seconds": "Time to classify the log lines of one batch.",
        "alertron_scorer_model_info":
            "1 for the version of each model (sensor, log) in service, 0 for versions it replaced.",
        "alertron_scorer_model_reload_failures_total":
            "Model files that failed to load, by model (the previous model kept serving).",
        "alertron_scorer_produce_retries_total": "Output batches sent again after a failed delivery.",
        "alertron_scorer_out_of_range_total":
            "Readings flagged critical because a feature lay far outside the model's training range.",
    ]).including(KafkaMetricsHelp.all)

    private let handles: MetricHandles
    private let deviceLabelCap: Int
    private let devices = Mutex<Set<String>>([])

    /// anomaly_count_total carries at most `deviceLabelCap` distinct device_id values.
    package init(_ handles: MetricHandles, deviceLabelCap: Int = ScorerSettings().deviceLabelCap) {
        self.handles = handles
        self.deviceLabelCap = deviceLabelCap
    }

    func produceRetried() { handles.counter("alertron_scorer_produce_retries_total").increment() }

    /// What one scored batch came to.
    func record(_ outcome: BatchScorer.Outcome, batchSize: Int) {
        handles.recorder("alertron_scorer_batch_events").record(batchSize)
        handles.counter("predictions_total").increment(by: outcome.scored)
        if outcome.outOfRange > 0 {
            handles.counter("alertron_scorer_out_of_range_total").increment(by: outcome.outOfRange)
        }
        if outcome.scored > 0 { handles.timer("inference_latency_seconds").recordInterval(outcome.inferenceTime) }
        if outcome.criticalLogs > 0 {
            handles.counter("log_severity_total", [("severity", Severity.critical.rawValue)]).increment(
                by: outcome.criticalLogs)
        }
        if outcome.routineLogs > 0 {
            handles.counter("log_severity_total", [("severity", Severity.none.rawValue)]).increment(
                by: outcome.routineLogs)
        }
        if outcome.criticalLogs + outcome.routineLogs > 0 {
            handles.timer("alertron_scorer_log_classification_seconds").recordInterval(outcome.logClassificationTime)
        }
        for (severity, device, score) in outcome.anomalies {
            handles.counter(
                "anomaly_count_total", [("severity", severity.rawValue), ("device_id", deviceLabel(device))]
            ).increment()
            handles.gauge("last_anomaly_score").record(score)
        }
        for (reason, count) in outcome.deadLetters {
            handles.counter("alertron_scorer_dead_letters_total", [("reason", reason)]).increment(by: count)
        }
    }

    func modelLoaded(kind: String, version: String, replacing previous: String?) {
        if let previous, previous != version {
            handles.gauge("alertron_scorer_model_info", [("model", kind), ("version", previous)]).record(0)
        }
        handles.gauge("alertron_scorer_model_info", [("model", kind), ("version", version)]).record(1)
    }

    func modelReloadFailed(kind: String) {
        handles.counter("alertron_scorer_model_reload_failures_total", [("model", kind)]).increment()
    }

    /// The device itself while fewer than the cap have been seen, else `_other`.
    private func deviceLabel(_ device: String) -> String {
        devices.withLock { seen in
            if seen.contains(device) { return device }
            guard seen.count < deviceLabelCap else { return "_other" }
            seen.insert(device)
            return device
        }
    }
}
