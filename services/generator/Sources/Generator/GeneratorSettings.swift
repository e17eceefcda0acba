// The generator's own settings, each declared once: flag, environment variable, help, and the
// field (whose initial value is the default). A few defaults follow from other settings; those
// are settled in `finish()`.
import Events
import Foundation
import Kafka
import MQTT
import Telemetry

package enum GeneratorTarget: String, CaseIterable, Sendable {
    /// Produce to Kafka directly (topic `readings`).
    case kafka
    /// Post NDJSON batches to ingest's HTTP API.
    case http
    /// Publish each event as a device would, on an MQTT broker that ingest subscribes to.
    case mqtt
}

/// Resolved generator settings; the defaults here are the documented ones.
package struct GeneratorSettings: DeclaredSettings {
    /// Every setting at its default.
    package init() {}

    package var stream = EventStream.Configuration()
    package var rate = 50.0
    package var count = 0
    package var target = GeneratorTarget.kafka
    package var topic = Topic.readings
    package var kafka = KafkaConfiguration(clientID: "generator")
    package var ingestURL = URL(string: "http://127.0.0.1:8080")!
    package var ingestToken: String?
    package var mqtt = MQTTBroker(url: "mqtt://127.0.0.1:1883")
    package var mqttTopicPrefix = "devices"

    /// The fleet's MQTT connection: a clean session under a client id of its own run.
    package func mqttConfiguration() throws -> MQTTConfiguration {
        guard var configuration = try mqtt.configuration(clientID: String("generator-\(stream.runID)".prefix(23)))
        else { throw SettingsError("--target mqtt needs --mqtt-url / MQTT_URL") }
        configuration.cleanSession = true
        return configuration
    }
    package var batchSize = 1000
    /// nil: 32 keeps Kafka busy (8 caps a run at about 300k events/s on the development broker,
    /// where a batch's round trip takes 20-30 ms), fewer when 32 batches would overflow the
    /// producer's queue; ingest gets 4 requests at a time.
    package var batchesInFlight: Int?
    package var drainTimeout: Duration = .seconds(10)
    package var progress = false
    package var progressInterval: Duration = .seconds(5)
    /// nil: readings, or logs when a replay file is given.
    package var requestedMode: GeneratorMode?
    /// nil: 8 random hex digits, so two runs never share ids.
    package var requestedRunID: String?
    package var replayPath: String?
    package var replayFormat = ReplayFormat.raw
    package var replaySource: String?
    package var replayLoop = false

    var replay: ReplaySettings? {
        replayPath.map { ReplaySettings(path: $0, format: replayFormat, source: replaySource, loop: replayLoop) }
    }

    package var inFlightBatches: Int {
        batchesInFlight ?? (target == .kafka ? max(1, min(32, 100_000 / batchSize)) : 4)
    }

    package mutating func finish() throws {
        stream.mode = requestedMode ?? (replayPath == nil ? .readings : .logs)
        stream.runID = requestedRunID ?? Self.randomRunID()
        if let replayPath {
            guard stream.mode != .readings else {
                throw SettingsError("--replay supplies log lines: use it with --mode logs or mixed")
            }
            guard FileManager.default.isReadableFile(atPath: replayPath) else {
                throw SettingsError("--replay / GENERATOR_REPLAY: cannot read \(replayPath)")
            }
        }
        // The producer's local queue holds 100 000 messages; more in flight would only wait.
        // MQTT numbers the messages awaiting acknowledgement with 16 bits.
        guard target != .mqtt || batchSize * inFlightBatches <= 60_000 else {
            throw SettingsError("--batch-size times --batches-in-flight must be at most 60000 for the mqtt target")
        }
        guard target != .kafka || batchSize * inFlightBatches <= 100_000 else {
            throw SettingsError(
                "--batch-size times --batches-in-flight must be at most 100000 (the Kafka producer's queue)")
        }
        progress = progress || isatty(STDERR_FILENO) == 1
    }

    package static let declarations: [Setting<GeneratorSettings>] =
        [
            .parsed(
                "mode", env: "GENERATOR_MODE", \.requestedMode, help: "readings, logs or mixed.",
                valueName: "readings|logs|mixed",
                default: "readings; logs when --replay is given", rule: "must be readings, logs or mixed",
                parse: { GeneratorMode(rawValue: $0.lowercased()) }, show: { $0?.rawValue }),
            .value(
                "rate", env: "GENERATOR_RATE", \.rate,
                help: "Events per second; 0 sends as fast as the target takes them.",
                valueName: "per-second", rule: "must be 0 or more events per second",
                where: { $0 >= 0 && $0.isFinite }),
            .value(
                "count", env: "GENERATOR_COUNT", \.count, help: "Events to send before exiting; 0 runs until stopped.",
                valueName: "n", rule: "must not be negative (0 runs until stopped)", where: { $0 >= 0 }),
            .value(
                "devices", env: "GENERATOR_DEVICES", \.stream.fleet.devices,
                help:
                    """
                    Devices in the fleet, edge-1 ... edge-N; the first 50 are the fleet the default sensor model \
                    is trained on.
                    """,
                valueName: "n", rule: "must be between 1 and 100000", where: { (1...100_000).contains($0) }),
            .value(
                "anomaly-rate", env: "GENERATOR_ANOMALY_RATE", \.stream.fleet.anomalyRate,
                help: "Fraction of readings that are anomalous, shared evenly among the anomaly kinds.",
                valueName: "fraction", rule: "must be within 0...1", where: { (0...1).contains($0) }),
            .parsed(
                "anomaly-kinds", env: "GENERATOR_ANOMALY_KINDS", \.stream.fleet.anomalyKinds,
                help: "Anomaly kinds to inject, comma-separated: spike, shift, stuck, correlated, drift.",
                valueName: "kind,...",
                rule: "must name kinds among spike, shift, stuck, correlated, drift, comma-separated",
                parse: AnomalyKind.list,
                show: { $0.map(\.rawValue).joined(separator: ",") }),
            .value(
                "profile", env: "GENERATOR_PROFILE", \.stream.profile,
                help:
                    """
                    The devices' profile (device type). Other than default, readings name it and carry their \
                    channels as "values", so the scorer judges them by that profile's model, or by each \
                    device's own baseline alone when it has none.
                    """,
                valueName: "name", rule: "must be 1 to 64 characters of a-z, 0-9, _ and .",
                where: { Reading.isValidName($0.utf8) }),
            .value(
                "seed", env: "GENERATOR_SEED", \.stream.seed,
                help: "Random seed: the same seed (and settings) gives the same readings and log lines.", valueName: "n"
            ),
            .value(
                "interval", env: "GENERATOR_INTERVAL", \.stream.fleet.interval,
                help:
                    """
                    Simulated seconds between two readings of one device; the fleet's clock drives the daily \
                    cycle and drift.
                    """,
                valueName: "seconds", rule: "must be a positive number of seconds", where: { $0 > 0 && $0.isFinite }),
            .parsed(
                "start", env: "GENERATOR_START", \.stream.start,
                help:
                    """
                    RFC 3339 time of the first event: timestamps become start + fleet time, so a run is \
                    reproducible to the byte (with --run-id).
                    """,
                valueName: "time", default: "the wall clock at sending",
                rule: "must be an RFC 3339 time such as 2026-01-01T00:00:00Z",
                parse: { EventTime.parse($0).map { .some($0) } },
                show: { $0.map { "\($0) ms" } }),
            .optional(
                "run-id", env: "GENERATOR_RUN_ID", \.requestedRunID,
                help: "Prefix of every event id (<run-id>-<sequence>); letters, digits, '.', '_' and '-'.",
                valueName: "id",
                default: "8 random hex digits, so two runs never share ids",
                rule: "must be 1 to 64 letters, digits, '.', '_' or '-'", where: isValidRunID),
            .value(
                "log-share", env: "GENERATOR_LOG_SHARE", \.stream.logShare,
                help: "Fraction of events that are log lines in mixed mode.",
                valueName: "fraction", rule: "must be within 0...1", where: { (0...1).contains($0) }),
            .value(
                "critical-rate", env: "GENERATOR_CRITICAL_RATE", \.stream.criticalRate,
                help: "Fraction of synthetic log lines that are critical.",
                valueName: "fraction", rule: "must be within 0...1", where: { (0...1).contains($0) }),
            .optional(
                "replay", env: "GENERATOR_REPLAY", \.replayPath,
                help: "Replay the log lines of this file instead of synthesising them.", valueName: "path"),
            .choice(
                "replay-format", env: "GENERATOR_REPLAY_FORMAT", \.replayFormat,
                help: "raw (each line is a message) or loghub (first token '-' is routine, anything else critical)."),
            .optional(
                "replay-source", env: "GENERATOR_REPLAY_SOURCE", \.replaySource,
                help: "Source (and Kafka key) of replayed lines.",
                valueName: "name", default: "the file's name without extension"),
            .toggle(
                "replay-loop", env: "GENERATOR_REPLAY_LOOP", \.replayLoop,
                help: "Start the replay file over at its end instead of finishing."),
            .choice(
                "target", env: "GENERATOR_TARGET", \.target,
                help: "kafka, http (ingest's API) or mqtt (a device fleet on the broker ingest subscribes to)."),
            .value(
                "topic", env: "GENERATOR_TOPIC", \.topic, help: "Kafka topic for the kafka target.",
                valueName: "topic"),
        ] + KafkaConfiguration.declarations.within(\.kafka) + [
            .parsed(
                "ingest-url", env: "INGEST_URL", \.ingestURL, help: "Ingest's base URL for the http target.",
                valueName: "url",
                rule: "must be an http(s) URL such as http://127.0.0.1:8080",
                parse: { text in
                    guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                        url.host != nil
                    else {
                        return nil
                    }
                    return url
                }, show: { $0.absoluteString })
        ]
        + MQTTBroker.declarations(urlHelp: "MQTT broker the mqtt target publishes to, as a fleet of devices.")
        .within(\.mqtt) + [
            .value(
                "mqtt-topic-prefix", env: "GENERATOR_MQTT_TOPIC_PREFIX", \.mqttTopicPrefix,
                help: "Topics of the mqtt target: <prefix>/<device>/readings and <prefix>/<source>/logs.",
                valueName: "prefix", rule: "must be a topic without wildcards",
                where: { !$0.isEmpty && !$0.contains("+") && !$0.contains("#") }),
            .optional(
                "ingest-token", env: "INGEST_TOKEN", \.ingestToken,
                help:
                    """
                    Bearer token for ingest; prefer the environment variable, which other users cannot read in \
                    the process list.
                    """,
                valueName: "token", secret: true),
            .value(
                "batch-size", env: "GENERATOR_BATCH_SIZE", \.batchSize,
                help: "Most events per Kafka send or per HTTP request.",
                valueName: "n", rule: "must be between 1 and 50000", where: { (1...50_000).contains($0) }),
            .optional(
                "batches-in-flight", env: "GENERATOR_BATCHES_IN_FLIGHT", \.batchesInFlight,
                help:
                    """
                    Batches awaiting acknowledgement at once: Kafka's round trip, not the CPU, bounds a run with \
                    too few.
                    """,
                valueName: "n", default: "32 for kafka, fewer for batches over 3125; 4 for http",
                rule: "must be between 1 and 256", where: { (1...256).contains($0) }),
            .parsed(
                "drain-timeout", env: "GENERATOR_DRAIN_TIMEOUT", \.drainTimeout,
                help:
                    "Seconds batches in flight may keep retrying after SIGTERM before they are given up (and counted).",
                valueName: "seconds", rule: "must be 0 or more seconds",
                parse: { Double($0).flatMap { $0 >= 0 && $0.isFinite ? .milliseconds(Int64($0 * 1000)) : nil } },
                show: { "\(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18)" }),
            .toggle(
                "progress", env: "GENERATOR_PROGRESS", \.progress,
                help: "Print a progress line on stderr every 5 seconds.",
                default: "only when stderr is a terminal"),
        ]

    static func randomRunID() -> String {
        String(UInt32.random(in: .min ... .max), radix: 16).leftPadded(to: 8)
    }

    static func isValidRunID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy {
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }
    }
}

struct ReplaySettings: Sendable, Equatable {
    var path: String
    var format: ReplayFormat
    /// nil: the file's name without extension.
    var source: String?
    var loop: Bool
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

private extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
