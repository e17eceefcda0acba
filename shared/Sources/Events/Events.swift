// The event values that travel on Alertron's topics (see DESIGN.md, "Events" and "Topics").

/// The `"schema"` number every event carries; decoders reject any other value.
public enum EventSchema {
    public static let version = 1
}

/// The generator's label for a synthetic reading. Carried through for evaluation only:
/// nothing downstream may use it to make a decision.
public struct GroundTruth: Sendable, Equatable {
    /// Longest `kind` accepted (kinds are words like spike or stuck).
    public static let maxKindBytes = 64
    public var anomaly: Bool
    public var kind: String?

    public init(anomaly: Bool, kind: String?) {
        self.anomaly = anomaly
        self.kind = kind
    }
}

/// One sensor reading (`"kind": "reading"`), keyed on the `readings` topic by its device id.
public struct Reading: Sendable, Equatable {
    public static let maxDeviceIDBytes = 256
    /// Channels one reading may carry.
    public static let maxChannels = 64
    /// Bytes of a channel or profile name (`[a-z0-9_.]`).
    public static let maxNameBytes = 64
    /// The profile of readings that name none, and of the three legacy channels.
    public static let defaultProfile = "default"
    /// The channels of the default profile that a reading may carry as top-level fields.
    public static let legacyChannels = ["temperature", "pressure", "vibration"]

    /// One named sensor channel and its value.
    public struct Channel: Sendable, Equatable {
        public var name: String
        public var value: Double
        public init(_ name: String, _ value: Double) { (self.name, self.value) = (name, value) }
    }

    public var id: String
    /// RFC 3339 timestamp, validated on decode.
    public var ts: String
    /// JSON `"device_id"`: non-empty, at most `maxDeviceIDBytes` UTF-8 bytes.
    public var deviceID: String
    /// The device type (`"profile"`): which model judges the device while it learns its normal.
    public var profile: String
    /// Every channel, in the event's order: the legacy fields first, then `"values"`. Names are
    /// distinct, `[a-z0-9_.]`, values finite (the codec checks).
    public var channels: [Channel]
    public var truth: GroundTruth?

    public init(
        id: String, ts: String, deviceID: String, profile: String = Reading.defaultProfile, channels: [Channel],
        truth: GroundTruth? = nil
    ) {
        self.id = id
        self.ts = ts
        self.deviceID = deviceID
        self.profile = profile
        self.channels = channels
        self.truth = truth
    }

    /// A default-profile reading of the three legacy channels.
    public init(
        id: String, ts: String, deviceID: String,
        temperature: Double, pressure: Double, vibration: Double,
        truth: GroundTruth? = nil
    ) {
        self.init(
            id: id, ts: ts, deviceID: deviceID,
            channels: [
                Channel("temperature", temperature), Channel("pressure", pressure), Channel("vibration", vibration),
            ],
            truth: truth)
    }

    /// The value of channel `name`, if the reading carries it.
    public func value(of name: String) -> Double? {
        for channel in channels where channel.name == name { return channel.value }
        return nil
    }

    /// True when the reading is exactly the legacy shape: the default profile and the three
    /// legacy channels in order (written as top-level fields, as older readers expect).
    public var isLegacyShape: Bool {
        profile == Reading.defaultProfile && channels.count == 3 && channels[0].name == "temperature"
            && channels[1].name == "pressure" && channels[2].name == "vibration"
    }

    /// Whether `name` may name a channel or a profile: 1 to 64 bytes of `[a-z0-9_.]`.
    public static func isValidName(_ name: some Collection<UInt8>) -> Bool {
        !name.isEmpty && name.count <= maxNameBytes
            && name.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2E }
    }
}

/// One log line (`"kind": "log"`), keyed by its source.
public struct LogEvent: Sendable, Equatable {
    /// Longer messages are rejected on decode with `EventError.Code.tooLarge`.
    public static let maxMessageBytes = 8192
    /// The source is the Kafka key, so it has the same bounds as a device id.
    public static let maxSourceBytes = 256
    /// Longest `level` accepted (levels are words like INFO or EMERG).
    public static let maxLevelBytes = 64

    public var id: String
    public var ts: String
    public var source: String
    public var message: String
    public var level: String?

    public init(id: String, ts: String, source: String, message: String, level: String? = nil) {
        self.id = id
        self.ts = ts
        self.source = source
        self.message = message
        self.level = level
    }
}

/// The kinds of event a client can submit, as their `kind` field spells them.
public enum InboundKind: String, Sendable {
    case reading, log
}

/// A value of the `readings` topic.
public enum InboundEvent: Sendable, Equatable {
    case reading(Reading)
    case log(LogEvent)

    public static let maxIDBytes = 128

    public var id: String {
        switch self {
        case .reading(let reading): reading.id
        case .log(let log): log.id
        }
    }

    public var ts: String {
        switch self {
        case .reading(let reading): reading.ts
        case .log(let log): log.ts
        }
    }

    /// The Kafka message key: the device id of a reading, the source of a log line.
    public var key: String {
        switch self {
        case .reading(let reading): reading.deviceID
        case .log(let log): log.source
        }
    }
}

public enum Severity: String, Sendable, CaseIterable {
    case none, warning, critical
}

/// A value of the `scored` and `anomalies` topics: the input event plus the scorer's verdict.
public struct ScoredEvent: Sendable, Equatable {
    public var event: InboundEvent
    /// In [0, 1]: for a reading judged by its device's own baseline, 0.5 at the threshold and
    /// rising with how improbable it is; from the fleet model, its Isolation Forest score; for a
    /// log line, the classifier's probability of critical.
    public var score: Double
    public var anomaly: Bool
    public var severity: Severity
    /// `name@version` of the model that produced the score.
    public var model: String
    /// RFC 3339 timestamp of scoring (JSON `"scored_at"`).
    public var scoredAt: String
    /// The device's episode an anomalous reading belongs to.
    public var episode: EpisodeMark?
    /// Why an anomalous reading or log line was flagged.
    public var explanation: Explanation?
    /// The template a log line joined, on every scored log line.
    public var template: LogTemplateRef?

    public init(
        event: InboundEvent, score: Double, anomaly: Bool,
        severity: Severity, model: String, scoredAt: String,
        episode: EpisodeMark? = nil, explanation: Explanation? = nil, template: LogTemplateRef? = nil
    ) {
        self.event = event
        self.score = score
        self.anomaly = anomaly
        self.severity = severity
        self.model = model
        self.scoredAt = scoredAt
        self.episode = episode
        self.explanation = explanation
        self.template = template
    }
}

/// The template a log line joined, as the scorer mines its source's lines: a stable id (12 hex
/// digits) and its text (masked tokens, `<*>` where its lines differ).
public struct LogTemplateRef: Sendable, Equatable {
    public static let maxIDBytes = 16
    public static let maxTextBytes = 4096
    public var id: String
    public var text: String

    public init(id: String, text: String) { (self.id, self.text) = (id, text) }
}

/// A value of the `anomalies` topic besides scored events: a device's episode is over, because
/// the device has been normal for the scorer's `--close-after` readings (or the episode lasted
/// so long that it became the device's new normal). The notifier can resolve what it sent.
public struct EpisodeClosed: Sendable, Equatable {
    /// `<episode id>/closed`: the same on every redelivery.
    public var id: String
    /// The time of the reading that closed it.
    public var ts: String
    public var deviceID: String
    /// The id every anomaly of the episode carried (`EpisodeMark.id`).
    public var episodeID: String
    /// RFC 3339 timestamp of scoring (JSON `"scored_at"`).
    public var scoredAt: String

    public init(ts: String, deviceID: String, episodeID: String, scoredAt: String) {
        id = episodeID + "/closed"
        (self.ts, self.deviceID, self.episodeID, self.scoredAt) = (ts, deviceID, episodeID, scoredAt)
    }
}

/// What the `anomalies` topic carries.
public enum AnomalyTopicEvent: Sendable, Equatable {
    case scored(ScoredEvent)
    case episodeClosed(EpisodeClosed)
}

/// Which fault episode of its device an anomalous reading belongs to: consecutive anomalous
/// readings are one episode until the device has been normal for a while.
public struct EpisodeMark: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// The first anomalous reading: an incident begins.
        case opened
        /// A later reading of an episode already open.
        case continues
    }

    /// Stable across redeliveries: the device and the id of the reading that opened it.
    public var id: String
    /// A device id, `/` and a reading id at their longest.
    public static let maxIDBytes = Reading.maxDeviceIDBytes + 1 + InboundEvent.maxIDBytes
    public var state: State

    public init(id: String, state: State) {
        self.id = id
        self.state = state
    }
}

/// Why a reading was flagged: the detector that found it most improbable and the channels that
/// drove it, each against the device's own normal.
public struct Explanation: Sendable, Equatable {
    public struct Channel: Sendable, Equatable {
        /// The channel's name (`temperature`, `vibration`...).
        public var name: String
        public var value: Double
        /// What the device's own normal expects now.
        public var expected: Double
        /// One standard deviation of the device's own variation around `expected`.
        public var spread: Double
        /// (value − expected) / spread.
        public var sigmas: Double
        /// The detector that saw this channel: spike, shift, stuck, relation, forest or range.
        public var detector: String

        public init(name: String, value: Double, expected: Double, spread: Double, sigmas: Double, detector: String) {
            (self.name, self.value, self.expected) = (name, value, expected)
            (self.spread, self.sigmas, self.detector) = (spread, sigmas, detector)
        }
    }

    public var detector: String
    /// The channels that drove it, the most unusual first (none for a log line).
    public var channels: [Channel]
    /// In words, for a log line: which signal fired (`new template on db-1: ...`).
    public var summary: String?

    public init(detector: String, channels: [Channel], summary: String? = nil) {
        self.detector = detector
        self.channels = channels
        self.summary = summary
    }
}

/// A value of a `<topic>.dlq` topic: the rejected bytes, why, and where they came from.
public struct DeadLetter: Sendable, Equatable {
    public var id: String
    public var ts: String
    /// Machine-readable reason, e.g. an `EventError.Code` raw value.
    public var reasonCode: String
    /// Human-readable reason; must not contain payload values.
    public var reason: String
    /// The service that rejected the message, e.g. `scorer`.
    public var rejectedBy: String
    public var sourceTopic: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64
    /// The original Kafka key, if the message had one.
    public var key: [UInt8]?
    /// The original Kafka value, byte for byte.
    public var payload: [UInt8]

    public init(
        id: String, ts: String, reasonCode: String, reason: String, rejectedBy: String,
        sourceTopic: String, sourcePartition: Int32, sourceOffset: Int64,
        key: [UInt8]?, payload: [UInt8]
    ) {
        self.id = id
        self.ts = ts
        self.reasonCode = reasonCode
        self.reason = reason
        self.rejectedBy = rejectedBy
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
        self.key = key
        self.payload = payload
    }
}
