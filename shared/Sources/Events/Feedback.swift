// A person's verdict on an incident, from Slack (the `feedback` topic, keyed by device id, log
// source or Alertmanager group, as the incident's alerts are): "not an anomaly" teaches the
// scorer that what the device's episode looked like is normal for it, or that the log
// source's templates the incident's lines belong to are routine for it; every verdict also
// reaches the notifier replica that owns the incident, which acts on it (acknowledges,
// silences, resolves) and shows it on the incident's message.

public struct Feedback: Sendable, Equatable {
    public enum Verdict: String, Sendable, CaseIterable {
        /// What fired is normal for this device (or routine for this log source).
        case notAnomaly = "not_anomaly"
        /// Someone is on it: reminders stop.
        case acknowledged
        /// No messages for this subject until `until` (an Alertmanager silence for a group).
        case silenced
        /// Over, by hand.
        case resolved
    }

    /// What the verdict is about.
    public enum Subject: Sendable, Equatable {
        case device(String)
        case logSource(String)
        /// An Alertmanager group (its `groupKey`).
        case alertmanagerGroup(String)

        /// The Kafka key: the device id or the log source, as the subject's readings are keyed,
        /// or the group key, as the webhook keys Alertmanager's notifications.
        public var key: String {
            switch self {
            case .device(let id): id
            case .logSource(let source): source
            case .alertmanagerGroup(let groupKey): groupKey
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
    /// For a log source: the templates (`LogTemplateRef.id`) of the incident's lines, at most
    /// `maxTemplates`; empty otherwise.
    public var templates: [String]
    /// Who said it (the Slack user id).
    public var user: String
    /// The notifier's incident key.
    public var incident: String
    /// Until when a `silenced` subject stays quiet (RFC 3339).
    public var until: String?

    public static let maxReadings = 100
    public static let maxTemplates = 20
    public static let maxUserBytes = 256
    public static let maxIncidentBytes = 512

    public init(
        id: String, ts: String, verdict: Verdict, subject: Subject, episodeID: String?, readings: [String],
        user: String, incident: String, until: String? = nil, templates: [String] = []
    ) {
        (self.id, self.ts, self.verdict, self.subject, self.episodeID) = (id, ts, verdict, subject, episodeID)
        (self.readings, self.user, self.incident) = (Array(readings.prefix(Self.maxReadings)), user, incident)
        self.until = until
        self.templates = Array(templates.prefix(Self.maxTemplates))
    }
}

enum FeedbackField: Int, FieldName {
    case schema, kind, id, ts, verdict, deviceID, source, groupKey, episodeID, readings, user, incident, until
    case templates

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
        } else if k.equals("group_key") {
            self = .groupKey
        } else if k.equals("until") {
            self = .until
        } else if k.equals("templates") {
            self = .templates
        } else {
            return nil
        }
    }
}

extension EventCodec {
    /// Decodes a value of the `feedback` topic: `"kind": "feedback"`, `verdict`, exactly one of
    /// `device_id`, `source` and `group_key`, an optional `episode_id`, `readings` (ids), `user`,
    /// `incident`, and for a source optional `templates` (the ids of its lines' templates).
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
        switch (index.containsNonNull(.deviceID), index.containsNonNull(.source), index.containsNonNull(.groupKey)) {
        case (true, false, false):
            subject = .device(try index.string(.deviceID, "device_id", maxBytes: Reading.maxDeviceIDBytes))
        case (false, true, false):
            subject = .logSource(try index.string(.source, "source", maxBytes: LogEvent.maxSourceBytes))
        case (false, false, true):
            subject = .alertmanagerGroup(try index.string(.groupKey, "group_key", maxBytes: Feedback.maxIncidentBytes))
        case (false, false, false):
            throw .missing("device_id")
        default:
            throw .invalid("device_id", "a verdict names one of device_id, source and group_key")
        }
        let until = try index.containsNonNull(.until) ? index.timestamp(.until, "until") : nil
        guard (verdict == .silenced) == (until != nil) else {
            throw .invalid("until", "a silenced verdict, and only that, says until when")
        }
        return Feedback(
            id: try index.string(.id, "id", maxBytes: Feedback.maxIncidentBytes + 64),
            ts: try index.timestamp(.ts, "ts"), verdict: verdict, subject: subject,
            episodeID: try index.optionalString(.episodeID, "episode_id", maxBytes: EpisodeMark.maxIDBytes),
            readings: try index.strings(
                .readings, "readings", maxCount: Feedback.maxReadings, maxBytes: InboundEvent.maxIDBytes),
            user: try index.string(.user, "user", maxBytes: Feedback.maxUserBytes),
            incident: try index.string(.incident, "incident", maxBytes: Feedback.maxIncidentBytes), until: until,
            templates: index.containsNonNull(.templates)
                ? try index.strings(
                    .templates, "templates", maxCount: Feedback.maxTemplates, maxBytes: LogTemplateRef.maxIDBytes) : [])
    }

    public static func decodeFeedback(_ bytes: some Collection<UInt8>) throws(EventError) -> Feedback {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in try decodeFeedback(raw) }
    }
}
