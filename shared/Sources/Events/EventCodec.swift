// Decodes Kafka message values into events, naming the field at fault when they are invalid.

public enum EventCodec {
    /// Decodes a value of the `readings` topic: a reading or a log event.
    ///
    /// Checks, in this order: JSON syntax (the whole value), `"schema": 1`, `"kind"`, `"id"`
    /// (non-empty, at most 128 bytes), `"ts"` (RFC 3339), then the kind's own fields in the
    /// order they are written. Unknown members are ignored; when a key repeats, the last wins.
    public static func decodeInbound(_ bytes: UnsafeRawBufferPointer) throws(EventError) -> InboundEvent {
        try inbound(FieldIndex<TopLevelField>(document: bytes))
    }

    /// `decodeInbound`, and besides it the origin project's reading, which its producer writes
    /// straight to the topic: `{"device_id", "features": [...], "ts": <Unix seconds>}`, without
    /// `schema` (see `originReading`). Such a reading has no id: `originID` makes one (from the
    /// message's topic, partition and offset, so a redelivered message keeps it); `now` is its
    /// time if it carries none. `origin` says which shape it was.
    public static func decodeInbound(
        _ bytes: UnsafeRawBufferPointer, originID: () -> String, now: @autoclosure () -> String
    ) throws(EventError) -> (event: InboundEvent, origin: Bool) {
        let index = try FieldIndex<TopLevelField>(document: bytes)
        if !index.contains(.schema) && index.contains(.features) {
            return (.reading(try originReading(index, id: originID(), now: now())), true)
        }
        return (try inbound(index), false)
    }

    public static func decodeInbound(
        _ bytes: some Collection<UInt8>, originID: () -> String, now: @autoclosure () -> String
    ) throws(EventError) -> (event: InboundEvent, origin: Bool) {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in
            try decodeInbound(raw, originID: originID, now: now())
        }
    }

    /// The origin project's reading: `device_id`; `features`, exactly the default profile's three
    /// channels in order [temperature, pressure, vibration]; `ts` as Unix seconds or RFC 3339
    /// text, or left out (then `now`). Ingest's `POST /ingest` takes the same shape.
    public static func decodeOriginReading(
        _ bytes: UnsafeRawBufferPointer, id: String, now: String
    ) throws(EventError) -> Reading {
        try originReading(FieldIndex<TopLevelField>(document: bytes), id: id, now: now)
    }

    public static func decodeInbound(_ bytes: some Collection<UInt8>) throws(EventError) -> InboundEvent {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in try decodeInbound(raw) }
    }

    /// Decodes a value of the `scored` or `anomalies` topic: the inbound fields plus
    /// `score` (finite), `anomaly`, `severity`, `model` (non-empty) and `scored_at` (RFC 3339).
    public static func decodeScored(_ bytes: UnsafeRawBufferPointer) throws(EventError) -> ScoredEvent {
        let index = try FieldIndex<TopLevelField>(document: bytes)
        try checkSchema(index)
        let event = try inboundEvent(
            index, kind: try kind(index, allowed: inboundKinds),
            id: try index.string(.id, "id", maxBytes: InboundEvent.maxIDBytes), ts: try index.timestamp(.ts, "ts"))
        let score = try index.double(.score, "score")
        let anomaly = try index.bool(.anomaly, "anomaly")
        let severity: Severity? = try index.withString(.severity, "severity") { bytes in
            if bytes.equals("none") { return Severity.none }
            if bytes.equals("warning") { return .warning }
            if bytes.equals("critical") { return .critical }
            return nil
        }
        guard let severity else { throw .invalid("severity", "must be one of none, warning, critical") }
        let model = try index.string(.model, "model", maxBytes: maxNameBytes)
        let scoredAt = try index.timestamp(.scoredAt, "scored_at")
        return ScoredEvent(
            event: event, score: score, anomaly: anomaly, severity: severity, model: model, scoredAt: scoredAt,
            episode: try episode(index), explanation: try explanation(index), template: try template(index))
    }

    private static func template(_ index: FieldIndex<TopLevelField>) throws(EventError) -> LogTemplateRef? {
        guard let nested = try index.object(.template, "template", optional: true, as: TemplateField.self) else {
            return nil
        }
        return LogTemplateRef(
            id: try nested.string(.id, "template.id", maxBytes: LogTemplateRef.maxIDBytes),
            text: try nested.string(.text, "template.text", maxBytes: LogTemplateRef.maxTextBytes, allowEmpty: true))
    }

    private static func episode(_ index: FieldIndex<TopLevelField>) throws(EventError) -> EpisodeMark? {
        guard let nested = try index.object(.episode, "episode", optional: true, as: EpisodeField.self) else {
            return nil
        }
        let id = try nested.string(.id, "episode.id", maxBytes: EpisodeMark.maxIDBytes)
        let state = try nested.withString(.state, "episode.state") { bytes in
            EpisodeMark.State(rawValue: String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self))
        }
        guard let state else { throw .invalid("episode.state", "must be one of opened, continues") }
        return EpisodeMark(id: id, state: state)
    }

    private static func explanation(_ index: FieldIndex<TopLevelField>) throws(EventError) -> Explanation? {
        guard let nested = try index.object(.explanation, "explanation", optional: true, as: ExplanationField.self)
        else { return nil }
        let detector = try nested.string(.detector, "explanation.detector", maxBytes: maxNameBytes)
        var channels: [Explanation.Channel] = []
        for channel in try nested.objects(.channels, "explanation.channels", as: ChannelField.self) {
            channels.append(
                Explanation.Channel(
                    name: try channel.string(.channel, "explanation.channels[].channel", maxBytes: maxNameBytes),
                    value: try channel.double(.value, "explanation.channels[].value"),
                    expected: try channel.double(.expected, "explanation.channels[].expected"),
                    spread: try channel.double(.spread, "explanation.channels[].spread"),
                    sigmas: try channel.double(.sigmas, "explanation.channels[].sigmas"),
                    detector: try channel.string(.detector, "explanation.channels[].detector", maxBytes: maxNameBytes)))
        }
        return Explanation(
            detector: detector, channels: channels,
            summary: try nested.optionalString(
                .summary, "explanation.summary", maxBytes: LogTemplateRef.maxTextBytes * 2))
    }

    public static func decodeScored(_ bytes: some Collection<UInt8>) throws(EventError) -> ScoredEvent {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in try decodeScored(raw) }
    }

    /// Decodes a value of the `anomalies` topic: a scored event, or an episode's end
    /// (`"kind": "episode_closed"` with `device_id`, `episode_id` and `scored_at`).
    public static func decodeAnomaly(_ bytes: UnsafeRawBufferPointer) throws(EventError) -> AnomalyTopicEvent {
        let index = try FieldIndex<TopLevelField>(document: bytes)
        try checkSchema(index)
        guard try kind(index, allowed: [.reading, .log, .episodeClosed]) == .episodeClosed else {
            return .scored(try decodeScored(bytes))
        }
        let id = try index.string(.id, "id", maxBytes: EpisodeMark.maxIDBytes + "/closed".utf8.count)
        let closed = EpisodeClosed(
            ts: try index.timestamp(.ts, "ts"),
            deviceID: try index.string(.deviceID, "device_id", maxBytes: Reading.maxDeviceIDBytes),
            episodeID: try index.string(.episodeID, "episode_id", maxBytes: EpisodeMark.maxIDBytes),
            scoredAt: try index.timestamp(.scoredAt, "scored_at"))
        guard closed.id == id else { throw .invalid("id", "must be the episode id followed by /closed") }
        return .episodeClosed(closed)
    }

    public static func decodeAnomaly(_ bytes: some Collection<UInt8>) throws(EventError) -> AnomalyTopicEvent {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in try decodeAnomaly(raw) }
    }

    /// Decodes a value of a `<topic>.dlq` topic. The optional `"payload"` text is a
    /// convenience for people and is not read; `"payload_base64"` is the payload.
    public static func decodeDeadLetter(_ bytes: UnsafeRawBufferPointer) throws(EventError) -> DeadLetter {
        let index = try FieldIndex<TopLevelField>(document: bytes)
        try checkSchema(index)
        _ = try kind(index, allowed: [.deadLetter])
        let id = try index.string(.id, "id", maxBytes: InboundEvent.maxIDBytes)
        let ts = try index.timestamp(.ts, "ts")
        let reasonCode = try index.string(.reasonCode, "reason_code", maxBytes: maxNameBytes)
        let reason = try index.string(.reason, "reason", allowEmpty: true)
        let rejectedBy = try index.string(.rejectedBy, "rejected_by", maxBytes: maxNameBytes)
        let source = try index.object(.source, "source", optional: false, as: SourceField.self)!
        let topic = try source.string(.topic, "source.topic", maxBytes: maxNameBytes)
        let partition = try source.int32(.partition, "source.partition")
        let offset = try source.int64(.offset, "source.offset")
        var key: [UInt8]?
        if index.containsNonNull(.keyBase64) {
            key = try base64(index, .keyBase64, "key_base64")
        }
        let payload = try base64(index, .payloadBase64, "payload_base64")
        return DeadLetter(
            id: id, ts: ts, reasonCode: reasonCode, reason: reason, rejectedBy: rejectedBy,
            sourceTopic: topic, sourcePartition: partition, sourceOffset: offset, key: key, payload: payload
        )
    }

    public static func decodeDeadLetter(_ bytes: some Collection<UInt8>) throws(EventError) -> DeadLetter {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in try decodeDeadLetter(raw) }
    }

    // MARK: Submissions (what clients send to ingest)

    /// Decodes one event a client submitted as `kind`: the same checks as `decodeInbound`,
    /// except that `schema`, `kind`, `id` and `ts` may be left out (or null). A present
    /// `schema` must be 1 and a present `kind` must be `kind`; a missing `id` is generated
    /// and a missing `ts` is `now`.
    public static func decodeSubmission(
        _ bytes: UnsafeRawBufferPointer, as kind: InboundKind, now: String
    ) throws(EventError) -> InboundEvent {
        let index = try FieldIndex<TopLevelField>(document: bytes)
        if index.containsNonNull(.schema) { try checkSchema(index) }
        let expected: Kind = kind == .reading ? .reading : .log
        if index.containsNonNull(.kind) {
            let found = try self.kind(index, allowed: inboundKinds)
            guard found == expected else {
                throw EventError(
                    code: .unknownKind, field: "kind",
                    message: "must be \"\(kind.rawValue)\" on this route, or left out")
            }
        }
        let id =
            index.containsNonNull(.id)
            ? try index.string(.id, "id", maxBytes: InboundEvent.maxIDBytes) : EventID.generate()
        let ts = index.containsNonNull(.ts) ? try index.timestamp(.ts, "ts") : now
        return try inboundEvent(index, kind: expected, id: id, ts: ts)
    }

    public static func decodeSubmission(
        _ bytes: some Collection<UInt8>, as kind: InboundKind, now: String
    ) throws(EventError) -> InboundEvent {
        try withContiguousBytes(bytes) { (raw) throws(EventError) in try decodeSubmission(raw, as: kind, now: now) }
    }

    /// The byte ranges of the elements of the JSON array that is the whole of `bytes`,
    /// checking the array's syntax (not the elements' meaning) on the way.
    public static func arrayElements(_ bytes: UnsafeRawBufferPointer) throws(EventError) -> [Range<Int>] {
        var reader = JSONReader(bytes)
        guard try reader.peekKind() == .array else { throw .malformed(at: reader.offset, "expected a JSON array") }
        var ranges: [Range<Int>] = []
        var more = try reader.beginArray()
        while more {
            reader.skipWhitespace()
            let start = reader.offset
            if try reader.peekKind() == .object {
                // As FieldIndex does for a document: a member may be NaN or Infinity, so
                // the element's decode can name that field instead of failing the array.
                var members = try reader.beginObject()
                while members {
                    try reader.readKey { _ in () }
                    try reader.skipValue(allowingNonFiniteNumber: true)
                    members = try reader.nextMember()
                }
            } else {
                try reader.skipValue()
            }
            ranges.append(start..<reader.offset)
            more = try reader.nextElement()
        }
        try reader.expectEnd()
        return ranges
    }

    // MARK: Shared steps

    /// Topic names, model names, rejecting services: short identifiers.
    static let maxNameBytes = 256

    private enum Kind {
        case reading, log, deadLetter, episodeClosed
    }

    private static let inboundKinds: [Kind] = [.reading, .log]

    private static func inbound(_ index: FieldIndex<TopLevelField>) throws(EventError) -> InboundEvent {
        try checkSchema(index)
        let kind = try kind(index, allowed: inboundKinds)
        return try inboundEvent(
            index, kind: kind, id: try index.string(.id, "id", maxBytes: InboundEvent.maxIDBytes),
            ts: try index.timestamp(.ts, "ts"))
    }

    private static func originReading(
        _ index: FieldIndex<TopLevelField>, id: String, now: String
    ) throws(EventError) -> Reading {
        let deviceID = try index.string(.deviceID, "device_id", maxBytes: Reading.maxDeviceIDBytes)
        let features = try index.numbers(
            .features, "features", count: Reading.legacyChannels.count,
            what: "[\(Reading.legacyChannels.joined(separator: ", "))]")
        var ts = now
        if index.containsNonNull(.ts) {
            if index.isNumber(.ts) {
                let seconds = try index.double(.ts, "ts")
                // Years 0000 to 9999, as RFC 3339 allows.
                guard (-62_167_219_200...253_402_300_799).contains(seconds) else {
                    throw .invalid("ts", "in Unix seconds must be a time in the years 0000 to 9999")
                }
                ts = Timestamp.format(millisecondsSinceEpoch: Int64((seconds * 1000).rounded()))
            } else {
                ts = try index.timestamp(.ts, "ts")
            }
        }
        return Reading(
            id: id, ts: ts, deviceID: deviceID,
            channels: zip(Reading.legacyChannels, features).map { Reading.Channel($0, $1) })
    }

    private static func checkSchema(_ index: FieldIndex<TopLevelField>) throws(EventError) {
        guard index.contains(.schema) else { throw .missing("schema") }
        let version = try index.double(.schema, "schema")
        guard version == Double(EventSchema.version) else {
            throw EventError(
                code: .unsupportedSchema, field: "schema",
                message: "unsupported schema version; this decoder reads schema \(EventSchema.version)"
            )
        }
    }

    private static func kind(_ index: FieldIndex<TopLevelField>, allowed: [Kind]) throws(EventError) -> Kind {
        let kind: Kind? = try index.withString(.kind, "kind") { bytes in
            if bytes.equals("reading") { return .reading }
            if bytes.equals("log") { return .log }
            if bytes.equals("dead_letter") { return .deadLetter }
            if bytes.equals("episode_closed") { return .episodeClosed }
            return nil
        }
        guard let kind, allowed.contains(kind) else {
            let expected =
                allowed == [.deadLetter]
                ? "\"dead_letter\""
                : allowed.contains(.episodeClosed)
                    ? "\"reading\", \"log\" or \"episode_closed\"" : "\"reading\" or \"log\""
            throw EventError(code: .unknownKind, field: "kind", message: "unsupported kind; expected \(expected)")
        }
        return kind
    }

    private static func inboundEvent(
        _ index: FieldIndex<TopLevelField>, kind: Kind, id: String, ts: String
    ) throws(EventError) -> InboundEvent {
        switch kind {
        case .reading:
            let deviceID = try index.string(.deviceID, "device_id", maxBytes: Reading.maxDeviceIDBytes)
            let channels = try readingChannels(index)
            var profile = Reading.defaultProfile
            if index.containsNonNull(.profile) {
                let valid = try index.withString(.profile, "profile") { Reading.isValidName($0) }
                guard valid else { throw .invalid("profile", "must be 1 to 64 characters of a-z, 0-9, _ and .") }
                profile = try index.string(.profile, "profile")
            }
            var truth: GroundTruth?
            if let nested = try index.object(.truth, "truth", optional: true, as: TruthField.self) {
                truth = GroundTruth(
                    anomaly: try nested.bool(.anomaly, "truth.anomaly"),
                    kind: try nested.optionalString(.kind, "truth.kind", maxBytes: GroundTruth.maxKindBytes)
                )
            }
            return .reading(
                Reading(id: id, ts: ts, deviceID: deviceID, profile: profile, channels: channels, truth: truth))
        case .log:
            let source = try index.string(.source, "source", maxBytes: LogEvent.maxSourceBytes)
            let message = try index.string(.message, "message", maxBytes: LogEvent.maxMessageBytes, allowEmpty: true)
            let level = try index.optionalString(.level, "level", maxBytes: LogEvent.maxLevelBytes)
            return .log(LogEvent(id: id, ts: ts, source: source, message: message, level: level))
        case .deadLetter, .episodeClosed:
            // Callers pass only inbound kinds; kept as an error rather than a trap all the same.
            throw EventError(
                code: .unknownKind, field: "kind", message: "unsupported kind; expected \"reading\" or \"log\"")
        }
    }

    /// A reading's channels: the legacy fields (all three, unless `values` is present: then
    /// any of them), then the members of `values`.
    private static func readingChannels(_ index: FieldIndex<TopLevelField>) throws(EventError) -> [Reading.Channel] {
        // The legacy shape, every reading of the default fleet: one allocation, no lookups.
        guard index.containsNonNull(.values) else {
            return [
                Reading.Channel("temperature", try index.double(.temperature, "temperature")),
                Reading.Channel("pressure", try index.double(.pressure, "pressure")),
                Reading.Channel("vibration", try index.double(.vibration, "vibration")),
            ]
        }
        var channels: [Reading.Channel] = []
        if index.containsNonNull(.temperature) {
            channels.append(Reading.Channel("temperature", try index.double(.temperature, "temperature")))
        }
        if index.containsNonNull(.pressure) {
            channels.append(Reading.Channel("pressure", try index.double(.pressure, "pressure")))
        }
        if index.containsNonNull(.vibration) {
            channels.append(Reading.Channel("vibration", try index.double(.vibration, "vibration")))
        }
        try index.numbers(.values, "values", limit: Reading.maxChannels - channels.count) {
            (name, value) throws(EventError) in
            guard Reading.isValidName(name) else {
                throw EventError(
                    code: .invalidValue, field: "values",
                    message: "channel names must be 1 to 64 characters of a-z, 0-9, _ and .")
            }
            let text = String(decoding: name, as: UTF8.self)
            guard channels.allSatisfy({ $0.name != text }) else {
                throw EventError(code: .invalidValue, field: "values.\(text)", message: "names a channel twice")
            }
            guard value.isFinite else {
                throw EventError(code: .invalidValue, field: "values.\(text)", message: "must be a finite number")
            }
            channels.append(Reading.Channel(text, value))
        }
        guard !channels.isEmpty else { throw .invalid("values", "must name at least one channel") }
        return channels
    }

    private static func base64(
        _ index: FieldIndex<TopLevelField>, _ name: TopLevelField, _ field: StaticString
    ) throws(EventError) -> [UInt8] {
        guard let bytes = try index.withString(name, field, { Base64.decode($0) }) else {
            throw .invalid(field, "must be standard padded base64")
        }
        return bytes
    }

    static func withContiguousBytes<R>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws(EventError) -> R
    ) throws(EventError) -> R {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(EventError) -> R in try body(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBytes { raw in
            Result { () throws(EventError) -> R in try body(raw) }
        }.get()
    }
}

// MARK: Member names

enum TopLevelField: Int, FieldName {
    case schema, kind, id, ts
    case deviceID, temperature, pressure, vibration, truth, values, profile, features
    case source, message, level
    case score, anomaly, severity, model, scoredAt, episode, explanation, episodeID, template
    case reasonCode, reason, rejectedBy, keyBase64, payloadBase64

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        switch k.count {
        case 2:
            if k.equals("id") { self = .id } else if k.equals("ts") { self = .ts } else { return nil }
        case 4:
            if k.equals("kind") { self = .kind } else { return nil }
        case 5:
            if k.equals("truth") {
                self = .truth
            } else if k.equals("level") {
                self = .level
            } else if k.equals("score") {
                self = .score
            } else if k.equals("model") {
                self = .model
            } else {
                return nil
            }
        case 6:
            if k.equals("schema") {
                self = .schema
            } else if k.equals("source") {
                self = .source
            } else if k.equals("reason") {
                self = .reason
            } else if k.equals("values") {
                self = .values
            } else {
                return nil
            }
        case 7:
            if k.equals("message") {
                self = .message
            } else if k.equals("anomaly") {
                self = .anomaly
            } else if k.equals("episode") {
                self = .episode
            } else if k.equals("profile") {
                self = .profile
            } else {
                return nil
            }
        case 8:
            if k.equals("pressure") {
                self = .pressure
            } else if k.equals("template") {
                self = .template
            } else if k.equals("features") {
                self = .features
            } else if k.equals("severity") {
                self = .severity
            } else {
                return nil
            }
        case 9:
            if k.equals("device_id") {
                self = .deviceID
            } else if k.equals("vibration") {
                self = .vibration
            } else if k.equals("scored_at") {
                self = .scoredAt
            } else {
                return nil
            }
        case 10:
            if k.equals("key_base64") {
                self = .keyBase64
            } else if k.equals("episode_id") {
                self = .episodeID
            } else {
                return nil
            }
        case 11:
            if k.equals("temperature") {
                self = .temperature
            } else if k.equals("reason_code") {
                self = .reasonCode
            } else if k.equals("rejected_by") {
                self = .rejectedBy
            } else if k.equals("explanation") {
                self = .explanation
            } else {
                return nil
            }
        case 14:
            if k.equals("payload_base64") { self = .payloadBase64 } else { return nil }
        default:
            return nil
        }
    }
}

enum EpisodeField: Int, FieldName {
    case id, state

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        if k.equals("id") { self = .id } else if k.equals("state") { self = .state } else { return nil }
    }
}

enum ExplanationField: Int, FieldName {
    case detector, channels, summary

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        if k.equals("detector") {
            self = .detector
        } else if k.equals("channels") {
            self = .channels
        } else if k.equals("summary") {
            self = .summary
        } else {
            return nil
        }
    }
}

enum TemplateField: Int, FieldName {
    case id, text

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        if k.equals("id") {
            self = .id
        } else if k.equals("text") {
            self = .text
        } else {
            return nil
        }
    }
}

enum ChannelField: Int, FieldName, CaseIterable {
    case channel, value, expected, spread, sigmas, detector

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        switch k.count {
        case 5: if k.equals("value") { self = .value } else { return nil }
        case 6:
            if k.equals("spread") { self = .spread } else if k.equals("sigmas") { self = .sigmas } else { return nil }
        case 7: if k.equals("channel") { self = .channel } else { return nil }
        case 8:
            if k.equals("expected") {
                self = .expected
            } else if k.equals("detector") {
                self = .detector
            } else {
                return nil
            }
        default: return nil
        }
    }
}

enum TruthField: Int, FieldName {
    case anomaly, kind

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        if k.equals("anomaly") { self = .anomaly } else if k.equals("kind") { self = .kind } else { return nil }
    }
}

enum SourceField: Int, FieldName {
    case topic, partition, offset

    var slot: Int { rawValue }

    init?(jsonKey k: UnsafeRawBufferPointer) {
        if k.equals("topic") {
            self = .topic
        } else if k.equals("partition") {
            self = .partition
        } else if k.equals("offset") {
            self = .offset
        } else {
            return nil
        }
    }
}
