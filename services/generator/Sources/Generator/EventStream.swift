// The generator's stream of events: fleet readings, log lines or both interleaved, each with
// its id, timestamp and what the generator knows about it. Pure apart from a replay file.
import Events

package enum GeneratorMode: String, CaseIterable, Sendable {
    case readings, logs, mixed
}

/// What the generator knows about an event: for metrics and the summary, never sent
/// (except a reading's `truth`).
enum EventLabel: Int, CaseIterable, Sendable {
    case normalReading, spike, shift, stuck, correlated, drift, routineLog, criticalLog, unlabeledLog

    init(_ anomaly: AnomalyKind?) {
        switch anomaly {
        case nil: self = .normalReading
        case .spike: self = .spike
        case .shift: self = .shift
        case .stuck: self = .stuck
        case .correlated: self = .correlated
        case .drift: self = .drift
        }
    }

    init(_ label: LogLine.Label) {
        switch label {
        case .routine: self = .routineLog
        case .critical: self = .criticalLog
        case .unlabeled: self = .unlabeledLog
        }
    }

    /// The event's `kind`: `reading` or `log`.
    var kind: String { rawValue <= EventLabel.drift.rawValue ? "reading" : "log" }

    /// A reading's anomaly kind or `none`; a log line's `critical`, `none` or `unlabeled`.
    var anomaly: String {
        switch self {
        case .normalReading, .routineLog: "none"
        case .spike: "spike"
        case .shift: "shift"
        case .stuck: "stuck"
        case .correlated: "correlated"
        case .drift: "drift"
        case .criticalLog: "critical"
        case .unlabeledLog: "unlabeled"
        }
    }
}

package struct GeneratedEvent: Sendable {
    var event: InboundEvent
    var label: EventLabel
}

package struct EventStream {
    package struct Configuration: Sendable {
        var mode = GeneratorMode.readings
        var fleet = Fleet.Configuration()
        /// Fraction of events that are log lines in mixed mode.
        var logShare = 0.2
        /// Fraction of synthetic log lines that are critical.
        var criticalRate = 0.05
        var seed: UInt64 = 1
        /// The first part of every event id: `<runID>-<sequence>`.
        package var runID = "run"
        /// The devices' profile: other than the default, readings carry it and their channels as
        /// named `values` (the same three), as a device of another type would.
        var profile = Reading.defaultProfile
        /// Timestamps are `start` plus fleet time (milliseconds since the epoch), or the
        /// wall clock when nil.
        var start: Int64?
    }

    let configuration: Configuration
    /// Events produced so far; the next event's sequence number.
    private(set) var sequence = 0
    private var fleet: Fleet
    private var syntheticLogs: SyntheticLogs
    private let replay: LogReplay?
    private let deviceIDs: [String]
    /// Fleet seconds per event: one round of the fleet per `interval`.
    private let secondsPerEvent: Double
    private var lastStamp: (milliseconds: Int64, text: String) = (.min, "")
    /// Where in the day the fleet's clock starts: the time of day of `start` (so readings'
    /// timestamps and their daily cycle agree), or midnight on the wall clock.
    private let startOfDay: Double

    /// `replay`, when given, supplies the log lines instead of the synthetic templates.
    package init(configuration: Configuration, replay: LogReplay? = nil) {
        self.configuration = configuration
        fleet = Fleet(configuration: configuration.fleet, seed: configuration.seed)
        syntheticLogs = SyntheticLogs(criticalRate: configuration.criticalRate, seed: configuration.seed)
        self.replay = replay
        deviceIDs = (0..<configuration.fleet.devices).map(Self.deviceID)
        secondsPerEvent = configuration.fleet.interval / Double(max(1, configuration.fleet.devices))
        let millisecondsPerDay: Int64 = 86_400_000
        startOfDay =
            configuration.start.map {
                Double(($0 % millisecondsPerDay + millisecondsPerDay) % millisecondsPerDay) / 1000
            } ?? 0
    }

    /// Device ids are `edge-1` ... `edge-<n>`: short (no allocation for a Swift string of
    /// up to 15 bytes) and what the README's examples use.
    static func deviceID(_ index: Int) -> String { "edge-\(index + 1)" }

    /// The next event, or nil when a replay file has ended. `wallClock` is the timestamp
    /// for events when no `start` was configured (one reading of the clock per batch).
    package mutating func next(wallClock: String) throws -> GeneratedEvent? {
        let fleetTime = Double(sequence) * secondsPerEvent
        let ts = configuration.start.map { stamp(start: $0, fleetTime: fleetTime) } ?? wallClock
        let id = "\(configuration.runID)-\(sequence)"
        if isLog(sequence) {
            let line: LogLine
            if let replay {
                guard let replayed = try replay.next() else { return nil }
                line = replayed
            } else {
                line = syntheticLogs.next()
            }
            sequence += 1
            return GeneratedEvent(
                event: .log(LogEvent(id: id, ts: ts, source: line.source, message: line.message, level: line.level)),
                label: EventLabel(line.label))
        }
        sequence += 1
        let reading = fleet.nextReading(fleetTime: startOfDay + fleetTime)
        let truth = GroundTruth(anomaly: reading.anomaly != nil, kind: reading.anomaly?.rawValue)
        return GeneratedEvent(
            event: .reading(
                Reading(
                    id: id, ts: ts, deviceID: deviceIDs[reading.device], profile: configuration.profile,
                    channels: [
                        .init("temperature", reading.values.x), .init("pressure", reading.values.y),
                        .init("vibration", reading.values.z),
                    ],
                    truth: truth)),
            label: EventLabel(reading.anomaly))
    }

    /// Mixed mode spreads log lines evenly: event i is a log line where the running count
    /// of log lines steps up, so any stretch of events holds the configured share.
    private func isLog(_ index: Int) -> Bool {
        switch configuration.mode {
        case .readings: false
        case .logs: true
        case .mixed:
            Int(Double(index + 1) * configuration.logShare) > Int(Double(index) * configuration.logShare)
        }
    }

    private mutating func stamp(start: Int64, fleetTime: Double) -> String {
        let milliseconds = start + Int64((fleetTime * 1000).rounded(.down))
        if milliseconds != lastStamp.milliseconds {
            lastStamp = (milliseconds, Timestamp.format(millisecondsSinceEpoch: milliseconds))
        }
        return lastStamp.text
    }
}
