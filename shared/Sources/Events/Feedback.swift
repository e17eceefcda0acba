// A person's verdict on an incident, from Slack to the scorer (the `feedback` topic, keyed by
// device id or log source): "not an anomaly" teaches the device's baseline that what its
// episode looked like is normal for it.

public struct Feedback: Sendable, Equatable {
    public enum Verdict: String, Sendable, CaseIterable {
        /// What fired is normal for this device (or routine for this log source).
        case notAnomaly = "not_anomaly"
    }

    /// What the verdict is about.
    public enum Subject: Sendable, Equatable {
        case device(String)
        case logSource(String)

        /// The Kafka key: the device id or the log source, as the subject's readings are keyed.
        public var key: String {
            switch self {
            case .device(let id): id
            case .logSource(let source): source
            }
        }
    }

    /// Stable across redeliveries of the same click: the incident and the verdict.
    public var id: String
    public var ts: String
    public var verdict: Verdict
    public var subject: Subject
    /// The device's episode (`EpisodeMark.id`) the verdict is about; nil for a log source.
    public var episodeID: String?
    /// Ids of the incident's flagged events (the first ones, at most `maxReadings`).
    public var readings: [String]
    /// Who said it (the Slack user id).
    public var user: String
    /// The notifier's incident key.
    public var incident: String

    public static let maxReadings = 100
    public static let maxUserBytes = 256
    public static let maxIncidentBytes = 512

    public init(
        id: String, ts: String, verdict: Verdict, subject: Subject, episodeID: String?, readings: [String],
        user: String, incident: String
    ) {
        (self.id, self.ts, self.verdict, self.subject, self.episodeID) = (id, ts, verdict, subject, episodeID)
        (self.readings, self.user, self.incident) = (Array(readings.prefix(Self.maxReadings)), user, incident)
    }
}

enum FeedbackField: Int, FieldName {
    case schema, kind, id, ts, verdict, deviceID, source, episodeID, readings, user, incident

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        if k.equals("schema") {
            self = .schema
        } else if k.equals("kind") {
            self = .kind
        } else if k.equals("id") {
            self = .id
        } else if k.equals("ts") {
            self = .ts
        } else if k.equals("verdict") {
            self = .verdict
        } else if k.equals("device_id") {
            self = .deviceID
        } else if k.equals("source") {
            self = .source
        } else if k.equals("episode_id") {
            self = .episodeID
        } else if k.equals("readings") {
            self = .readings
        } else if k.equals("user") {
            self = .user
        } else if k.equals("incident") {
            self = .incident
        } else {
            return nil
        }
    }
}

extension EventCodec {
    /// Decodes a value of the `feedback` topic: `"kind": "feedback"`, `verdict`, exactly one of
    /// `device_id` and `source`, an optional `episode_id`, `readings` (ids), `user` and `incident`.
    public static func decodeFeedback(_ bytes: UnsafeRawBufferPointer) throws(EventError) -> Feedback {
        let index = try FieldIndex<FeedbackField>(document: bytes)
        guard index.contains(.schema) else { throw .missing("schema") }
        guard try index.double(.schema, "schema") == Double(EventSchema.version) else {
            throw EventError(
                code: .unsupportedSchema, field: "schema",
                message: "unsupported schema version; this decoder reads schema \(EventSchema.version)")
        }
        guard try index.withString(.kind, "kind", { $0.equals("feedback") }) else {
            throw EventError(code: .unknownKind, field: "kind", message: "unsupported kind; expected \"feedback\"")
        }
        let verdict = try index.withString(.verdict, "verdict") { bytes in
            Feedback.Verdict(rawValue: String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self))
        }
        guard let verdict else {
            throw .invalid(
                "verdict", "must be one of \(Feedback.Verdict.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let subject: Feedback.Subject
        switch (index.containsNonNull(.deviceID), index.containsNonNull(.source)) {
        case (true, false):
            subject = .device(try index.string(.deviceID, "device_id", maxBytes: Reading.maxDeviceIDBytes))
        case (false, true):
            subject = .logSource(try index.string(.source, "source", maxBytes: LogEvent.maxSourceBytes))
        case (true, true):
            throw .invalid("device_id", "a verdict names a device_id or a source, not both")
        case (false, false):
            throw .missing("device_id")
        }
        return Feedback(
            id: try index.string(.id, "id", maxBytes: Feedback.maxIncidentBytes + 64),
            ts: try index.timestamp(.ts, "ts"), verdict: verdict, subject: subject,
            episodeID: try index.optionalString(.episodeID, "episode_id", maxBytes: EpisodeMark.maxIDBytes),
            readings: try index.strings(
                .readings, "readings", maxCount: Feedback.maxReadings, maxBytes: InboundEvent.maxIDBytes),
            user: try index.string(.user, "user", maxBytes: Feedback.maxUserBytes),
            incident: try index.string(.incident, "incident", maxBytes: Feedback.maxIncidentBytes))
    }

    public static func decodeFeedback(_ bytes: some Collection<UInt8>) throws(EventError) -> Feedback {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in try decodeFeedback(raw) }
    }
}
