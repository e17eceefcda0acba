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
        "alertron_scorer_dead_letters_total":
            "Messages sent to a dead-letter topic (the input's or the feedback topic's), by reason code.",
        "log_severity_total": "Log lines classified, by severity (critical or none).",
        "alertron_scorer_log_classification_seconds": "Time to classify the log lines of one batch.",
        "alertron_scorer_model_info":
            "1 for the version of each model (sensor, log) in service, 0 for versions it replaced.",
        "alertron_scorer_model_reload_failures_total":
            "Model files that failed to load, by model (the previous model kept serving).",
        "alertron_scorer_produce_retries_total": "Output batches sent again after a failed delivery.",
        "alertron_scorer_out_of_range_total":
            "Readings flagged critical because a feature lay far outside the model's training range.",
        "alertron_scorer_episodes_total":
            "Devices' episodes by event: opened (a first anomalous reading), closed (normal again, or a new normal).",
        "alertron_scorer_devices":
            """
        Devices this replica holds, by state: learning (their normal; the fleet model judges them) or \
        judging (by their own normal).
        """,
        "alertron_scorer_state_restored_devices_total":
            "Devices whose memory was restored from the state topic when their partition came to this replica.",
        "alertron_scorer_state_discarded_total":
            "State records not restored (written for another model's features, or damaged): those devices learn afresh.",
        "alertron_scorer_state_restore_seconds": "Time to restore the devices of one partition from the state topic.",
        "alertron_scorer_readings_without_model_total":
            "Readings of a device profile that has no model: judged by their device's own baseline alone.",
        "alertron_scorer_state_restore_failures_total":
            "Failed reads of the state topic (scoring of that partition waits and tries again).",
        "alertron_scorer_feedback_total":
            """
        People's verdicts read from the feedback topic, by outcome: applied (a device's latest episode \
        accepted as normal), unknown_device (not held by this replica), stale_episode (not the device's \
        latest episode), log_source (not learned from yet), ignored (not the scorer's: acknowledged, \
        silenced, resolved, Alertmanager groups), invalid (sent to the feedback dead-letter topic).
        """,
    ]).including(KafkaMetricsHelp.all)

    private let handles: MetricHandles
    private let deviceLabelCap: Int
    private let devices = Mutex<Set<String>>([])

    /// anomaly_count_total carries at most `deviceLabelCap` distinct device_id values.
    // The label-free handles and the fixed-label ones, made once.
    private let batchEvents: Recorder
    private let predictions: Counter
    private let outOfRange: Counter
    private let inferenceLatency: Timer
    private let criticalLogs: Counter
    private let routineLogs: Counter
    private let logClassificationLatency: Timer
    private let lastAnomalyScore: Gauge
    private let produceRetries: Counter
    private let episodesOpened: Counter
    private let episodesClosed: Counter
    private let devicesLearning: Gauge
    private let devicesJudged: Gauge
    private let stateRestoredDevices: Counter
    private let stateDiscarded: Counter
    private let stateRestoreTime: Timer
    private let stateRestoreFailures: Counter
    private let withoutModel: Counter
    private let feedback: [BatchScorer.FeedbackNote.Result: Counter]
    private let invalidFeedback: Counter

    /// anomaly_count_total carries at most `deviceLabelCap` distinct device_id values.
    package init(_ handles: MetricHandles, deviceLabelCap: Int = ScorerSettings().deviceLabelCap) {
        self.handles = handles
        self.deviceLabelCap = deviceLabelCap
        batchEvents = handles.recorder("alertron_scorer_batch_events")
        predictions = handles.counter("predictions_total")
        outOfRange = handles.counter("alertron_scorer_out_of_range_total")
        inferenceLatency = handles.timer("inference_latency_seconds")
        criticalLogs = handles.counter("log_severity_total", [("severity", Severity.critical.rawValue)])
        routineLogs = handles.counter("log_severity_total", [("severity", Severity.none.rawValue)])
        logClassificationLatency = handles.timer("alertron_scorer_log_classification_seconds")
        lastAnomalyScore = handles.gauge("last_anomaly_score")
        produceRetries = handles.counter("alertron_scorer_produce_retries_total")
        episodesOpened = handles.counter("alertron_scorer_episodes_total", [("event", "opened")])
        episodesClosed = handles.counter("alertron_scorer_episodes_total", [("event", "closed")])
        devicesLearning = handles.gauge("alertron_scorer_devices", [("state", "learning")])
        devicesJudged = handles.gauge("alertron_scorer_devices", [("state", "judging")])
        stateRestoredDevices = handles.counter("alertron_scorer_state_restored_devices_total")
        stateDiscarded = handles.counter("alertron_scorer_state_discarded_total")
        stateRestoreTime = handles.timer("alertron_scorer_state_restore_seconds")
        stateRestoreFailures = handles.counter("alertron_scorer_state_restore_failures_total")
        withoutModel = handles.counter("alertron_scorer_readings_without_model_total")
        feedback = Dictionary(
            uniqueKeysWithValues: BatchScorer.FeedbackNote.Result.allCases.map {
                ($0, handles.counter("alertron_scorer_feedback_total", [("outcome", $0.rawValue)]))
            })
        invalidFeedback = handles.counter("alertron_scorer_feedback_total", [("outcome", "invalid")])
    }

    func readingsWithoutModel(_ count: Int) { withoutModel.increment(by: count) }

    func stateRestored(devices: Int, discarded: Int, took: Duration) {
        stateRestoredDevices.increment(by: devices)
        stateDiscarded.increment(by: discarded)
        stateRestoreTime.recordInterval(took)
    }

    func stateRestoreFailed() { stateRestoreFailures.increment() }

    func produceRetried() { produceRetries.increment() }

    /// What one scored batch came to.
    func record(_ outcome: BatchScorer.Outcome, batchSize: Int) {
        batchEvents.record(batchSize)
        predictions.increment(by: outcome.scored)
        if outcome.outOfRange > 0 { outOfRange.increment(by: outcome.outOfRange) }
        if outcome.episodesOpened > 0 { episodesOpened.increment(by: outcome.episodesOpened) }
        if outcome.episodesClosed > 0 { episodesClosed.increment(by: outcome.episodesClosed) }
        if outcome.scored > 0 {
            devicesLearning.record(outcome.devicesLearning)
            devicesJudged.record(outcome.devicesJudged)
        }
        if outcome.scored > 0 { inferenceLatency.recordInterval(outcome.inferenceTime) }
        if outcome.criticalLogs > 0 { criticalLogs.increment(by: outcome.criticalLogs) }
        if outcome.routineLogs > 0 { routineLogs.increment(by: outcome.routineLogs) }
        if outcome.criticalLogs + outcome.routineLogs > 0 {
            logClassificationLatency.recordInterval(outcome.logClassificationTime)
        }
        for (severity, device, _) in outcome.anomalies {
            handles.counter(
                "anomaly_count_total", [("severity", severity.rawValue), ("device_id", deviceLabel(device))]
            ).increment()
        }
        // A gauge keeps its last value: the batch's last anomaly is the one it shows.
        if let last = outcome.anomalies.last { lastAnomalyScore.record(last.score) }
        for (reason, count) in outcome.deadLetters {
            handles.counter("alertron_scorer_dead_letters_total", [("reason", reason)]).increment(by: count)
        }
        for note in outcome.feedback { feedback[note.result]?.increment() }
        if outcome.invalidFeedback > 0 { invalidFeedback.increment(by: outcome.invalidFeedback) }
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
