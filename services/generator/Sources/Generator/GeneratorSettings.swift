// The generator's own settings (beyond the common ones): flags with environment fallbacks,
// resolved once into GeneratorSettings with every default documented in --help.
import ArgumentParser
import Events
import Foundation
import Telemetry

enum GeneratorTarget: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// Produce to Kafka directly (topic `readings`).
    case kafka
    /// Post NDJSON batches to ingest's HTTP API.
    case http
}

struct GeneratorOptions: ParsableArguments {
    @Option(help: "readings, logs or mixed. [env: GENERATOR_MODE] (default: readings; logs when --replay is given)")
    var mode: GeneratorMode?

    @Option(help: "Events per second; 0 sends as fast as the target takes them. [env: GENERATOR_RATE] (default: 50)")
    var rate: Double?

    @Option(help: "Events to send before exiting; 0 runs until stopped. [env: GENERATOR_COUNT] (default: 0)")
    var count: Int?

    @Option(help: "Devices in the fleet, edge-1 ... edge-N; the first 50 are the fleet the default sensor model is trained on. [env: GENERATOR_DEVICES] (default: 50)")
    var devices: Int?

    @Option(name: .customLong("anomaly-rate"),
            help: "Fraction of readings that are anomalous, shared evenly among the anomaly kinds. [env: GENERATOR_ANOMALY_RATE] (default: 0.02)")
    var anomalyRate: Double?

    @Option(name: .customLong("anomaly-kinds"),
            help: "Anomaly kinds to inject, comma-separated: spike, shift, stuck, correlated. [env: GENERATOR_ANOMALY_KINDS] (default: all four)")
    var anomalyKinds: String?

    @Option(help: "Random seed: the same seed (and settings) gives the same readings and log lines. [env: GENERATOR_SEED] (default: 1)")
    var seed: UInt64?

    @Option(help: "Simulated seconds between two readings of one device; the fleet's clock drives the daily cycle and drift. [env: GENERATOR_INTERVAL] (default: 60)")
    var interval: Double?

    @Option(help: "RFC 3339 time of the first event: timestamps become start + fleet time, so a run is reproducible to the byte (with --run-id). [env: GENERATOR_START] (default: the wall clock at sending)")
    var start: String?

    @Option(name: .customLong("run-id"),
            help: "Prefix of every event id (<run-id>-<sequence>); letters, digits, '.', '_' and '-'. [env: GENERATOR_RUN_ID] (default: 8 random hex digits, so two runs never share ids)")
    var runID: String?

    @Option(name: .customLong("log-share"), help: "Fraction of events that are log lines in mixed mode. [env: GENERATOR_LOG_SHARE] (default: 0.2)")
    var logShare: Double?

    @Option(name: .customLong("critical-rate"),
            help: "Fraction of synthetic log lines that are critical. [env: GENERATOR_CRITICAL_RATE] (default: 0.05)")
    var criticalRate: Double?

    @Option(help: "Replay the log lines of this file instead of synthesising them. [env: GENERATOR_REPLAY]")
    var replay: String?

    @Option(name: .customLong("replay-format"),
            help: "raw (each line is a message) or loghub (first token '-' is routine, anything else critical). [env: GENERATOR_REPLAY_FORMAT] (default: raw)")
    var replayFormat: ReplayFormat?

    @Option(name: .customLong("replay-source"),
            help: "Source (and Kafka key) of replayed lines. [env: GENERATOR_REPLAY_SOURCE] (default: the file's name without extension)")
    var replaySource: String?

    @Flag(name: .customLong("replay-loop"), help: "Start the replay file over at its end instead of finishing. [env: GENERATOR_REPLAY_LOOP=true]")
    var replayLoop = false

    @Option(help: "kafka or http (ingest). [env: GENERATOR_TARGET] (default: kafka)")
    var target: GeneratorTarget?

    @Option(help: "Kafka topic for the kafka target. [env: GENERATOR_TOPIC] (default: readings)")
    var topic: String?

    @Option(name: .customLong("ingest-url"), help: "Ingest's base URL for the http target. [env: INGEST_URL] (default: http://127.0.0.1:8080)")
    var ingestURL: String?

    @Option(name: .customLong("ingest-token"),
            help: "Bearer token for ingest; prefer the environment variable, which other users cannot read in the process list. [env: INGEST_TOKEN]")
    var ingestToken: String?

    @Option(name: .customLong("batch-size"),
            help: "Most events per Kafka send or per HTTP request. [env: GENERATOR_BATCH_SIZE] (default: 1000)")
    var batchSize: Int?

    @Option(name: .customLong("batches-in-flight"),
            help: "Batches awaiting acknowledgement at once: Kafka's round trip, not the CPU, bounds a run with too few. [env: GENERATOR_BATCHES_IN_FLIGHT] (default: 32 for kafka, fewer for batches over 3125; 4 for http)")
    var batchesInFlight: Int?

    @Option(name: .customLong("drain-timeout"),
            help: "Seconds batches in flight may keep retrying after SIGTERM before they are given up (and counted). [env: GENERATOR_DRAIN_TIMEOUT] (default: 10)")
    var drainTimeout: Double?

    @Flag(help: "Print a progress line on stderr every 5 seconds. [env: GENERATOR_PROGRESS=true] (default: only when stderr is a terminal)")
    var progress = false

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GeneratorSettings {
        func value<Value: LosslessStringConvertible>(_ flag: Value?, _ env: String, _ fallback: Value) throws -> Value {
            try Setting.resolve(flag, env: env, default: fallback, environment: environment)
        }
        func enabled(_ flag: Bool, _ env: String) -> Bool {
            flag || ["1", "true", "yes"].contains(environment[env]?.lowercased() ?? "")
        }
        var settings = GeneratorSettings()
        let replayPath = Setting.resolve(replay, env: "GENERATOR_REPLAY", environment: environment)
        let modeName = try value(mode?.rawValue, "GENERATOR_MODE", replayPath == nil ? "readings" : "logs")
        guard let mode = GeneratorMode(rawValue: modeName) else {
            throw ValidationError("--mode / GENERATOR_MODE must be readings, logs or mixed")
        }
        settings.stream.mode = mode
        settings.rate = try value(rate, "GENERATOR_RATE", 50.0)
        guard settings.rate >= 0, settings.rate.isFinite else { throw ValidationError("--rate / GENERATOR_RATE must be 0 or more events per second") }
        settings.count = try value(count, "GENERATOR_COUNT", 0)
        guard settings.count >= 0 else { throw ValidationError("--count / GENERATOR_COUNT must not be negative (0 runs until stopped)") }

        settings.stream.fleet.devices = try value(devices, "GENERATOR_DEVICES", 50)
        guard (1...100_000).contains(settings.stream.fleet.devices) else {
            throw ValidationError("--devices / GENERATOR_DEVICES must be between 1 and 100000")
        }
        settings.stream.fleet.anomalyRate = try value(anomalyRate, "GENERATOR_ANOMALY_RATE", 0.02)
        guard (0...1).contains(settings.stream.fleet.anomalyRate) else {
            throw ValidationError("--anomaly-rate / GENERATOR_ANOMALY_RATE must be within 0...1")
        }
        if let kinds = Setting.resolve(anomalyKinds, env: "GENERATOR_ANOMALY_KINDS", environment: environment) {
            guard let list = AnomalyKind.list(kinds) else {
                throw ValidationError("--anomaly-kinds / GENERATOR_ANOMALY_KINDS: give names among spike, shift, stuck, correlated, comma-separated")
            }
            settings.stream.fleet.anomalyKinds = list
        }
        settings.stream.seed = try value(seed, "GENERATOR_SEED", 1)
        settings.stream.fleet.interval = try value(interval, "GENERATOR_INTERVAL", 60.0)
        guard settings.stream.fleet.interval > 0, settings.stream.fleet.interval.isFinite else {
            throw ValidationError("--interval / GENERATOR_INTERVAL must be a positive number of seconds")
        }
        if let start = Setting.resolve(start, env: "GENERATOR_START", environment: environment) {
            guard let milliseconds = EventTime.parse(start) else {
                throw ValidationError("--start / GENERATOR_START must be an RFC 3339 time such as 2026-01-01T00:00:00Z")
            }
            settings.stream.start = milliseconds
        }
        settings.stream.runID = Setting.resolve(runID, env: "GENERATOR_RUN_ID", environment: environment) ?? Self.randomRunID()
        guard Self.isValidRunID(settings.stream.runID) else {
            throw ValidationError("--run-id / GENERATOR_RUN_ID: 1 to 64 letters, digits, '.', '_' or '-'")
        }
        settings.stream.logShare = try value(logShare, "GENERATOR_LOG_SHARE", 0.2)
        guard (0...1).contains(settings.stream.logShare) else { throw ValidationError("--log-share / GENERATOR_LOG_SHARE must be within 0...1") }
        settings.stream.criticalRate = try value(criticalRate, "GENERATOR_CRITICAL_RATE", 0.05)
        guard (0...1).contains(settings.stream.criticalRate) else {
            throw ValidationError("--critical-rate / GENERATOR_CRITICAL_RATE must be within 0...1")
        }

        if let replayPath {
            guard mode != .readings else { throw ValidationError("--replay supplies log lines: use it with --mode logs or mixed") }
            guard FileManager.default.isReadableFile(atPath: replayPath) else {
                throw ValidationError("--replay / GENERATOR_REPLAY: cannot read \(replayPath)")
            }
            let formatName = try value(replayFormat?.rawValue, "GENERATOR_REPLAY_FORMAT", "raw")
            guard let format = ReplayFormat(rawValue: formatName) else {
                throw ValidationError("--replay-format / GENERATOR_REPLAY_FORMAT must be raw or loghub")
            }
            settings.replay = ReplaySettings(path: replayPath, format: format,
                                             source: Setting.resolve(replaySource, env: "GENERATOR_REPLAY_SOURCE", environment: environment),
                                             loop: enabled(replayLoop, "GENERATOR_REPLAY_LOOP"))
        }

        let targetName = try value(target?.rawValue, "GENERATOR_TARGET", "kafka")
        guard let target = GeneratorTarget(rawValue: targetName) else { throw ValidationError("--target / GENERATOR_TARGET must be kafka or http") }
        settings.target = target
        settings.topic = try value(topic, "GENERATOR_TOPIC", Topic.readings)
        let url = try value(ingestURL, "INGEST_URL", "http://127.0.0.1:8080")
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
            throw ValidationError("--ingest-url / INGEST_URL must be an http(s) URL such as http://127.0.0.1:8080")
        }
        settings.ingestURL = parsed
        settings.ingestToken = Setting.resolve(ingestToken, env: "INGEST_TOKEN", environment: environment)

        settings.batchSize = try value(batchSize, "GENERATOR_BATCH_SIZE", 1000)
        guard (1...50_000).contains(settings.batchSize) else { throw ValidationError("--batch-size / GENERATOR_BATCH_SIZE must be between 1 and 50000") }
        // The Kafka default shrinks for large batches, to fit the producer's queue (below).
        let defaultInFlight = target == .kafka ? max(1, min(32, 100_000 / settings.batchSize)) : 4
        settings.batchesInFlight = try value(batchesInFlight, "GENERATOR_BATCHES_IN_FLIGHT", defaultInFlight)
        guard (1...256).contains(settings.batchesInFlight) else {
            throw ValidationError("--batches-in-flight / GENERATOR_BATCHES_IN_FLIGHT must be between 1 and 256")
        }
        // The producer's local queue holds 100 000 messages; more in flight would only wait.
        guard target == .http || settings.batchSize * settings.batchesInFlight <= 100_000 else {
            throw ValidationError("--batch-size times --batches-in-flight must be at most 100000 (the Kafka producer's queue)")
        }
        let drain = try value(drainTimeout, "GENERATOR_DRAIN_TIMEOUT", 10.0)
        guard drain >= 0, drain.isFinite else { throw ValidationError("--drain-timeout / GENERATOR_DRAIN_TIMEOUT must be 0 or more seconds") }
        settings.drainTimeout = .milliseconds(Int64(drain * 1000))
        settings.progress = enabled(progress, "GENERATOR_PROGRESS") || isatty(STDERR_FILENO) == 1
        return settings
    }

    static func randomRunID() -> String {
        String(UInt32.random(in: .min ... .max), radix: 16).leftPadded(to: 8)
    }

    static func isValidRunID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

struct ReplaySettings: Sendable, Equatable {
    var path: String
    var format: ReplayFormat
    /// nil: the file's name without extension.
    var source: String?
    var loop: Bool
}

/// Resolved generator settings; the defaults here are the documented ones.
struct GeneratorSettings: Sendable {
    var stream = EventStream.Configuration()
    var rate = 50.0
    var count = 0
    var replay: ReplaySettings?
    var target = GeneratorTarget.kafka
    var topic = Topic.readings
    var ingestURL = URL(string: "http://127.0.0.1:8080")!
    var ingestToken: String?
    var batchSize = 1000
    /// 32 keeps Kafka busy (8 caps a run at about 300k events/s on the development broker,
    /// where a batch's round trip takes 20-30 ms); ingest gets 4 requests at a time.
    var batchesInFlight = 32
    var drainTimeout: Duration = .seconds(10)
    var progress = false
    var progressInterval: Duration = .seconds(5)
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
