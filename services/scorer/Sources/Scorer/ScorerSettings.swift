// The scorer's own settings (beyond the common ones): flags with environment fallbacks.
import ArgumentParser
import Events
import Telemetry

struct ScorerOptions: ParsableArguments {
    @Option(help: "Isolation Forest artifact to serve; reloaded on SIGHUP or when the file changes. [env: MODEL_PATH] (default: models/sensor-iforest.json)")
    var model: String?

    @Option(name: .customLong("log-model"),
            help: "Log severity classifier artifact to serve; reloaded like the sensor model. [env: LOG_MODEL_PATH] (default: models/log-severity.json)")
    var logModel: String?

    @Option(name: .customLong("consumer-group"), help: "Kafka consumer group. [env: SCORER_GROUP] (default: scorer)")
    var consumerGroup: String?

    @Option(name: .customLong("input-topic"), help: "Topic to score. [env: SCORER_INPUT_TOPIC] (default: readings)")
    var inputTopic: String?

    @Option(name: .customLong("batch-size"), help: "Most messages scored per batch. [env: SCORER_BATCH_SIZE] (default: 1000)")
    var batchSize: Int?

    @Option(name: .customLong("batches-in-flight"),
            help: "Batches whose output may await acknowledgement at once; offsets are still stored in order. [env: SCORER_BATCHES_IN_FLIGHT] (default: 8)")
    var batchesInFlight: Int?

    @Option(name: .customLong("range-tolerance"),
            help: "Flag a reading critical when a feature is beyond its training range by more than this fraction of the range's width; 0 turns the check off. [env: SCORER_RANGE_TOLERANCE] (default: 0.5)")
    var rangeTolerance: Double?

    @Option(name: .customLong("device-label-cap"),
            help: "Distinct device_id label values in anomaly_count_total; the rest count as _other. [env: SCORER_DEVICE_LABEL_CAP] (default: 1000)")
    var deviceLabelCap: Int?

    @Option(name: .customLong("reload-interval"),
            help: "Seconds between checks of the model file for changes; 0 disables (SIGHUP still reloads). [env: SCORER_RELOAD_INTERVAL] (default: 5)")
    var reloadInterval: Int?

    func resolve() throws -> ScorerSettings {
        let settings = ScorerSettings(
            modelPath: try Setting.resolve(model, env: "MODEL_PATH", default: "models/sensor-iforest.json"),
            logModelPath: try Setting.resolve(logModel, env: "LOG_MODEL_PATH", default: "models/log-severity.json"),
            consumerGroup: try Setting.resolve(consumerGroup, env: "SCORER_GROUP", default: "scorer"),
            inputTopic: try Setting.resolve(inputTopic, env: "SCORER_INPUT_TOPIC", default: Topic.readings),
            batchSize: try Setting.resolve(batchSize, env: "SCORER_BATCH_SIZE", default: 1000),
            batchesInFlight: try Setting.resolve(batchesInFlight, env: "SCORER_BATCHES_IN_FLIGHT", default: 8),
            rangeTolerance: try Setting.resolve(rangeTolerance, env: "SCORER_RANGE_TOLERANCE", default: 0.5),
            deviceLabelCap: try Setting.resolve(deviceLabelCap, env: "SCORER_DEVICE_LABEL_CAP", default: 1000),
            reloadInterval: .seconds(try Setting.resolve(reloadInterval, env: "SCORER_RELOAD_INTERVAL", default: 5)))
        // A batch causes up to two messages per input; it must fit the producer's queue.
        guard (1...50_000).contains(settings.batchSize) else {
            throw ValidationError("--batch-size / SCORER_BATCH_SIZE must be between 1 and 50000")
        }
        guard settings.batchesInFlight > 0 else { throw ValidationError("--batches-in-flight / SCORER_BATCHES_IN_FLIGHT must be at least 1") }
        guard settings.rangeTolerance >= 0, settings.rangeTolerance.isFinite else {
            throw ValidationError("--range-tolerance / SCORER_RANGE_TOLERANCE must be a non-negative number (0 turns the check off)")
        }
        guard settings.deviceLabelCap >= 0 else { throw ValidationError("--device-label-cap must not be negative") }
        return settings
    }
}

/// Resolved scorer settings; topics derive from the input topic as DESIGN.md fixes them.
struct ScorerSettings: Sendable {
    var modelPath: String
    var logModelPath: String
    var consumerGroup = "scorer"
    var inputTopic = Topic.readings
    var batchSize = 1000
    var batchesInFlight = 8
    /// Beyond the training range by more than this fraction of its width: critical. 0: off.
    var rangeTolerance = 0.5
    var deviceLabelCap = 1000
    var reloadInterval: Duration = .seconds(5)
    var scoredTopic = Topic.scored
    var anomaliesTopic = Topic.anomalies
    var deadLetterTopic: String { Topic.deadLetters(of: inputTopic) }
}
