// The scorer's metrics: the source project's names (its dashboards and rules use them) and
// alertron_scorer_* for the rest. device_id values beyond a cap fold into "_other".
// Every series whose labels can be known is made at 0 before it counts: at start-up for fixed
// labels (reasons, models, _other), when a device is first seen for its own. rate() and
// increase() cannot see the value a series is born with, and a panel reads 0, not "No data".
// Built from the runtime's metric factory, so tests can read what was counted.
import Events
import Metrics
import Models
import Kafka
import Synchronization
import Telemetry

package final class ScorerMetrics: Sendable {
    package static let catalog = MetricsCatalog(help: [
        "anomaly_count_total":
            "Events judged anomalous, by severity and device (device_id capped; the rest are _other).",
        "last_anomaly_score":
            """
        Score of the most recent anomalous reading, by device (device_id capped as in anomaly_count_total; \
        0 until the device's first anomaly).
        """,
        "inference_latency_seconds": "Time to score one batch with the model.",
        "predictions_total": "Events scored.",
        "alertron_scorer_batch_events": "Events per consumed batch.",
        "alertron_scorer_dead_letters_total":
            "Messages sent to a dead-letter topic (the input's or the feedback topic's), by reason code.",
        "log_severity_total": "Log lines classified, by severity (critical or none).",
        "alertron_scorer_log_classification_seconds":
            "Time to judge the log lines of one batch (classifier, templates, rates).",
        "alertron_scorer_critical_logs_total":
            """
        Critical log lines by the signal that made them so: classifier, new_template (a template its source \
        never said, past the source's warm-up) or burst (a template far above its usual rate).
        """,
        "alertron_scorer_logs_marked_routine_total":
            """
        Log lines of templates people said are not an anomaly (Slack): routine for their source whatever \
        the classifier, novelty or rate say.
        """,
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
        "alertron_scorer_origin_readings_total":
            """
        Readings in the origin project's shape ({"device_id", "features": [...], "ts": <Unix seconds>}) read \
        from the input topic: who still sends it.
        """,
        "alertron_scorer_feedback_total":
            """
        People's verdicts read from the feedback topic, by outcome: applied (a device's latest episode \
        accepted as normal, or a log incident's templates made routine), unknown_device (not held by this replica), stale_episode (not the device's \
        latest episode), unknown_template (a log incident's templates, none held by this replica), ignored (not the scorer's: acknowledged, \
        silenced, resolved, Alertmanager groups), invalid (sent to the feedback dead-letter topic).
        """,
    ]).including(KafkaMetricsHelp.all)

    /// The severities anomaly_count_total counts.
    static let anomalySeverities: [Severity] = [.warning, .critical]
    static let otherDevices = "_other"

    private let handles: MetricHandles
    private let deviceLabelCap: Int
    /// Devices with their own device_id label, at most `deviceLabelCap`.
    private let devices = Mutex<Set<String>>([])
    private let anomalyCounts: CountersFromZero

    // The label-free handles and the fixed-label ones, made once.
    private let batchEvents: Recorder
    private let predictions: Counter
    private let outOfRange: Counter
    private let inferenceLatency: Timer
    private let criticalLogs: Counter
    private let routineLogs: Counter
    private let logClassificationLatency: Timer
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
    private let originReadings: Counter
    private let logSignals: [LogJudge.Reason: Counter]
    private let logsMarkedRoutine: Counter

    /// anomaly_count_total and last_anomaly_score carry at most `deviceLabelCap` distinct
    /// device_id values besides `_other`.
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
        originReadings = handles.counter("alertron_scorer_origin_readings_total")
        logSignals = Dictionary(
            uniqueKeysWithValues: LogJudge.Reason.allCases.map {
                ($0, handles.counter("alertron_scorer_critical_logs_total", [("signal", $0.rawValue)]))
            })
        logsMarkedRoutine = handles.counter("alertron_scorer_logs_marked_routine_total")
        anomalyCounts = CountersFromZero("anomaly_count_total", handles: handles)
        for reason in BatchScorer.deadLetterReasons {
            _ = handles.counter("alertron_scorer_dead_letters_total", [("reason", reason)])
        }
        for kind in [IsolationForest.kind, LogClassifier.kind] {
            _ = handles.counter("alertron_scorer_model_reload_failures_total", [("model", kind)])
        }
        declare(device: Self.otherDevices)
    }

    /// Devices this replica holds for the first time (new ones, or restored with their
    /// partition): their series are made at 0 while fewer than the cap have been.
    func devicesSeen(_ ids: some Sequence<String>) {
        let added: [String] = devices.withLock { seen in
            var added: [String] = []
            for id in ids where seen.count < deviceLabelCap && !seen.contains(id) {
                seen.insert(id)
                added.append(id)
            }
            return added
        }
        for id in added { declare(device: id) }
    }

    private func declare(device label: String) {
        for severity in Self.anomalySeverities {
            anomalyCounts.declare([("severity", severity.rawValue), ("device_id", label)])
        }
        _ = handles.gauge("last_anomaly_score", [("device_id", label)])
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
        if !outcome.newDevices.isEmpty { devicesSeen(outcome.newDevices) }
        if !outcome.anomalies.isEmpty { recordAnomalies(outcome.anomalies) }
        if outcome.originReadings > 0 { originReadings.increment(by: outcome.originReadings) }
        for (reason, count) in outcome.logReasons { logSignals[reason]?.increment(by: count) }
        if outcome.routineByPeople > 0 { logsMarkedRoutine.increment(by: outcome.routineByPeople) }
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

    /// A batch's anomalies, summed by severity and device label first: one lock for the labels and
    /// one count per series, not per anomaly. A gauge keeps its last value: a device's last
    /// anomaly in the batch is the one it shows.
    private func recordAnomalies(_ anomalies: [(severity: Severity, device: String, score: Double)]) {
        var counts: [Severity: [String: Int]] = [:]
        var lastScores: [String: Double] = [:]
        devices.withLock { labelled in
            for (severity, device, score) in anomalies {
                // The device itself if it has its own series (seen while there was room), else `_other`.
                let label = labelled.contains(device) ? device : Self.otherDevices
                counts[severity, default: [:]][label, default: 0] += 1
                lastScores[label] = score
            }
        }
        for (severity, byLabel) in counts {
            for (label, count) in byLabel {
                anomalyCounts.increment([("severity", severity.rawValue), ("device_id", label)], by: count)
            }
        }
        for (label, score) in lastScores { handles.gauge("last_anomaly_score", [("device_id", label)]).record(score) }
    }
}
