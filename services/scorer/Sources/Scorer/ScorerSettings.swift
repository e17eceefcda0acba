// The scorer's own settings, each declared once: flag, environment variable, help, and the
// field (whose initial value is the default). Topics derive from the input topic as DESIGN.md fixes them.
import Events
import Kafka
import Models
import Telemetry

package struct ScorerSettings: DeclaredSettings {
    /// Every setting at its default.
    package init() {}

    package var modelPath = "models/sensor-iforest.json"
    package var logModelPath = "models/log-severity.json"
    /// `<profile>.json` fleet models of the other device profiles.
    package var modelsDirectory = "models/profiles"
    package var consumerGroup = "scorer"
    package var inputTopic = Topic.readings
    package var batchSize = 1000
    package var batchesInFlight = 8
    /// Beyond the training range by more than this fraction of its width: critical. 0: off.
    package var rangeTolerance = 0.5
    package var deviceLabelCap = 1000
    package var reloadInterval: Duration = .seconds(5)
    /// How each device is judged against its own normal.
    package var detection = DeviceDetector.Settings()
    /// How log lines are judged beside the classifier: their sources' new templates and bursts.
    package var logs = LogJudge.Settings()
    package var kafka = KafkaConfiguration(clientID: "scorer")
    package var scoredTopic = Topic.scored
    package var anomaliesTopic = Topic.anomalies
    /// Where each device's detection state is kept, unless `stateInMemory`.
    package var stateTopic = Topic.scorerState
    package var stateInMemory = false
    /// People's verdicts (`not_anomaly` widens a device's normal); empty: not read.
    package var feedbackTopic = Topic.feedback
    package var deadLetterTopic: String { Topic.deadLetters(of: inputTopic) }
    package var feedbackDeadLetterTopic: String { Topic.deadLetters(of: feedbackTopic) }

    package static let declarations: [Setting<ScorerSettings>] =
        KafkaConfiguration.declarations.within(\.kafka) + [
            .value(
                "model", env: "MODEL_PATH", \.modelPath,
                help: "Isolation Forest artifact to serve; reloaded on SIGHUP or when the file changes.",
                valueName: "path"),
            .value(
                "models-dir", env: "SCORER_MODELS_DIR", \.modelsDirectory,
                help:
                    """
                    Directory of the other device profiles' fleet models, one <profile>.json each (the default \
                    profile's is --model); new and changed files are picked up like the model's. A profile \
                    without one is judged by each device's own baseline alone.
                    """,
                valueName: "path"),
            .value(
                "log-model", env: "LOG_MODEL_PATH", \.logModelPath,
                help: "Log severity classifier artifact to serve; reloaded like the sensor model.", valueName: "path"),
            .value(
                "consumer-group", env: "SCORER_GROUP", \.consumerGroup, help: "Kafka consumer group.",
                valueName: "group"),
            .value("input-topic", env: "SCORER_INPUT_TOPIC", \.inputTopic, help: "Topic to score.", valueName: "topic"),
            .value(
                "state-topic", env: "SCORER_STATE_TOPIC", \.stateTopic,
                help:
                    """
                    Compacted topic that keeps every device's learned normal and open episode, so a replica \
                    taking over a partition does not start cold; it needs at least the input topic's partitions.
                    """,
                valueName: "topic"),
            .value(
                "feedback-topic", env: "SCORER_FEEDBACK_TOPIC", \.feedbackTopic,
                help:
                    """
                    Topic of people's verdicts from Slack, read beside the input topic (same partitions, same \
                    keys): "not an anomaly" on a device's latest episode widens its normal so that the same \
                    pattern does not alert again; undecodable verdicts go to <topic>.dlq. An empty value \
                    (--feedback-topic '') turns this off.
                    """,
                valueName: "topic"),
            .toggle(
                "state-in-memory", env: "SCORER_STATE_IN_MEMORY", \.stateInMemory,
                help:
                    """
                    Keep devices' state only in memory, without the state topic: after a restart or a \
                    rebalance, the devices of a partition learn their normal again (the fleet model judges them).
                    """),
            // A batch causes up to two messages per input; it must fit the producer's queue.
            .value(
                "batch-size", env: "SCORER_BATCH_SIZE", \.batchSize, help: "Most messages scored per batch.",
                valueName: "n", rule: "must be between 1 and 50000", where: { (1...50_000).contains($0) }),
            .value(
                "batches-in-flight", env: "SCORER_BATCHES_IN_FLIGHT", \.batchesInFlight,
                help: "Batches whose output may await acknowledgement at once; offsets are still stored in order.",
                valueName: "n", rule: "must be at least 1", where: { $0 > 0 }),
            .value(
                "range-tolerance", env: "SCORER_RANGE_TOLERANCE", \.rangeTolerance,
                help:
                    """
                    Flag a reading critical when a feature is beyond its training range by more than this \
                    fraction of the range's width; 0 turns the check off.
                    """,
                valueName: "fraction", rule: "must be a non-negative number (0 turns the check off)",
                where: { $0 >= 0 && $0.isFinite }),
            .value(
                "device-label-cap", env: "SCORER_DEVICE_LABEL_CAP", \.deviceLabelCap,
                help: "Distinct device_id label values in anomaly_count_total; the rest count as _other.",
                valueName: "n", rule: "must not be negative", where: { $0 >= 0 }),
            .parsed(
                "reload-interval", env: "SCORER_RELOAD_INTERVAL", \.reloadInterval,
                help: "Seconds between checks of the model file for changes; 0 disables (SIGHUP still reloads).",
                valueName: "seconds", rule: "must be 0 or more whole seconds",
                parse: { Int($0).flatMap { $0 >= 0 ? .seconds($0) : nil } }, show: { "\($0.components.seconds)" }),
        ] + detectionDeclarations + logDeclarations

    private static let logDeclarations: [Setting<ScorerSettings>] = [
        .value(
            "log-warm-up", env: "SCORER_LOG_WARM_UP", \.logs.warmUpLines,
            help: "Lines a log source says before a template it has never said is news.", valueName: "lines",
            rule: "must not be negative", where: { $0 >= 0 }),
        .value(
            "log-novelty-probability", env: "SCORER_LOG_NOVELTY_PROBABILITY", \.logs.noveltyProbability,
            help: """
                Probability of critical (the log classifier's) from which a line of a template its source has \
                never said (past --log-warm-up) is critical; 1 (the default) turns the signal off.
                """,
            valueName: "p", rule: "must be between 0 and 1", where: { (0...1).contains($0) }),
        .value(
            "log-burst-factor", env: "SCORER_LOG_BURST_FACTOR", \.logs.templates.burstFactor,
            help: """
                A template said this many times its usual count in a minute (and at least 20 times) is one burst, \
                a critical line; 0 (the default) turns bursts off.
                """,
            valueName: "x", rule: "must be 0 (off) or at least 2", where: { $0 == 0 || ($0 >= 2 && $0.isFinite) }),
    ]

    /// How each device is judged against its own normal (DeviceDetector.Settings).
    private static let detectionDeclarations: [Setting<ScorerSettings>] = [
        .value(
            "warm-up", env: "SCORER_WARM_UP", \.detection.warmUp,
            help: "Readings a device learns its own normal from; until then the fleet model judges it.",
            valueName: "n", rule: "must be at least 30", where: { $0 >= 30 }),
        .value(
            "close-after", env: "SCORER_CLOSE_AFTER", \.detection.closeAfter,
            help: "Normal readings in a row that close a device's open episode.",
            valueName: "n", rule: "must be at least 1", where: { $0 >= 1 }),
        .value(
            "false-episodes-per-device-day", env: "SCORER_FALSE_EPISODES_PER_DEVICE_DAY",
            \.detection.falseEpisodesPerDeviceDay,
            help:
                """
                The noise budget every threshold follows from: false episodes a fault-free device may \
                open per day (0.02: one in 50 device-days).
                """,
            valueName: "rate", rule: "must be between 0 and 100 (exclusive of 0)",
            where: { $0 > 0 && $0 <= 100 }),
        .value(
            "relearn-after", env: "SCORER_RELEARN_AFTER", \.detection.relearnAfter,
            help: "Readings after which an episode still open is the device's new normal, learned afresh.",
            valueName: "n", rule: "must be at least 1", where: { $0 >= 1 }),
    ]
}
