// Encodes events as the JSON shapes of DESIGN.md into one reusable buffer per producer.

/// Writes events into a buffer that keeps its capacity between messages.
///
/// `write` appends one JSON object; for one event per Kafka message, call `reset()` first:
/// ```
/// writer.reset()
/// writer.write(scored)
/// producer.send(key: scored.event.key, value: writer.bytes)
/// ```
public struct EventWriter: Sendable {
    private var json: JSONWriter

    /// The bytes written since the last `reset()`.
    public var bytes: [UInt8] { json.bytes }

    public init(capacity: Int = 512) {
        json = JSONWriter(capacity: capacity)
    }

    /// Empties the buffer, keeping its capacity.
    public mutating func reset() {
        json.reset()
    }

    public mutating func write(_ event: InboundEvent) {
        writeFields(of: event)
        json.raw("}")
    }

    public mutating func write(_ event: ScoredEvent) {
        writeFields(of: event.event)
        json.member(",\"score\":", event.score)
        json.member(",\"anomaly\":", event.anomaly)
        json.raw(",\"severity\":")
        json.raw(event.severity.quoted)
        json.member(",\"model\":", event.model)
        json.member(",\"scored_at\":", event.scoredAt)
        if let episode = event.episode {
            json.member(",\"episode\":{\"id\":", episode.id)
            json.raw(",\"state\":")
            json.raw(episode.state == .opened ? "\"opened\"}" : "\"continues\"}")
        }
        if let explanation = event.explanation { write(explanation) }
        if let template = event.template {
            json.member(",\"template\":{\"id\":", template.id)
            json.member(",\"text\":", template.text)
            json.raw("}")
        }
        json.raw("}")
    }

    public mutating func write(_ event: EpisodeClosed) {
        header(kind: "{\"schema\":1,\"kind\":\"episode_closed\"", id: event.id, ts: event.ts)
        json.member(",\"device_id\":", event.deviceID)
        json.member(",\"episode_id\":", event.episodeID)
        json.member(",\"scored_at\":", event.scoredAt)
        json.raw("}")
    }

    public mutating func write(_ event: Feedback) {
        header(kind: "{\"schema\":1,\"kind\":\"feedback\"", id: event.id, ts: event.ts)
        json.member(",\"verdict\":", event.verdict.rawValue)
        switch event.subject {
        case .device(let id): json.member(",\"device_id\":", id)
        case .logSource(let source): json.member(",\"source\":", source)
        case .alertmanagerGroup(let groupKey): json.member(",\"group_key\":", groupKey)
        }
        if let episode = event.episodeID { json.member(",\"episode_id\":", episode) }
        json.raw(",\"readings\":[")
        for (index, reading) in event.readings.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(reading)
        }
        json.raw("]")
        json.member(",\"user\":", event.user)
        json.member(",\"incident\":", event.incident)
        if let until = event.until { json.member(",\"until\":", until) }
        if !event.templates.isEmpty {
            json.raw(",\"templates\":[")
            for (index, template) in event.templates.enumerated() {
                if index > 0 { json.raw(",") }
                json.string(template)
            }
            json.raw("]")
        }
        json.raw("}")
    }

    private mutating func write(_ explanation: Explanation) {
        json.member(",\"explanation\":{\"detector\":", explanation.detector)
        json.raw(",\"channels\":[")
        for (index, channel) in explanation.channels.enumerated() {
            json.raw(index == 0 ? "{\"channel\":" : ",{\"channel\":")
            json.string(channel.name)
            json.member(",\"value\":", channel.value)
            json.member(",\"expected\":", channel.expected)
            json.member(",\"spread\":", channel.spread)
            json.member(",\"sigmas\":", channel.sigmas)
            json.member(",\"detector\":", channel.detector)
            json.raw("}")
        }
        json.raw("]")
        if let summary = explanation.summary { json.member(",\"summary\":", summary) }
        json.raw("}")
    }

    public mutating func write(_ event: DeadLetter) {
        header(kind: "{\"schema\":1,\"kind\":\"dead_letter\"", id: event.id, ts: event.ts)
        json.member(",\"reason_code\":", event.reasonCode)
        json.member(",\"reason\":", event.reason)
        json.member(",\"rejected_by\":", event.rejectedBy)
        json.member(",\"source\":{\"topic\":", event.sourceTopic)
        json.raw(",\"partition\":")
        json.integer(Int64(event.sourcePartition))
        json.raw(",\"offset\":")
        json.integer(event.sourceOffset)
        json.raw("}")
        if let key = event.key {
            json.raw(",\"key_base64\":\"")
            Base64.encode(key, into: &json.bytes)
            json.raw("\"")
        }
        json.raw(",\"payload_base64\":\"")
        Base64.encode(event.payload, into: &json.bytes)
        json.raw("\"")
        // The text form is for people reading the topic; base64 above is the lossless copy.
        event.payload.withUnsafeBytes { payload in
            if UTF8Validation.isValid(payload) {
                json.raw(",\"payload\":")
                json.string(utf8: payload)
            }
        }
        json.raw("}")
    }

    /// Everything of an inbound event except its closing brace, so a scored event can
    /// continue the same object.
    private mutating func writeFields(of event: InboundEvent) {
        switch event {
        case .reading(let reading):
            header(kind: "{\"schema\":1,\"kind\":\"reading\"", id: reading.id, ts: reading.ts)
            json.member(",\"device_id\":", reading.deviceID)
            if reading.isLegacyShape {
                json.member(",\"temperature\":", reading.channels[0].value)
                json.member(",\"pressure\":", reading.channels[1].value)
                json.member(",\"vibration\":", reading.channels[2].value)
            } else {
                if reading.profile != Reading.defaultProfile { json.member(",\"profile\":", reading.profile) }
                json.raw(",\"values\":{")
                for (index, channel) in reading.channels.enumerated() {
                    if index > 0 { json.raw(",") }
                    json.string(channel.name)
                    json.raw(":")
                    json.double(channel.value)
                }
                json.raw("}")
            }
            if let truth = reading.truth {
                json.member(",\"truth\":{\"anomaly\":", truth.anomaly)
                if let kind = truth.kind { json.member(",\"kind\":", kind) }
                json.raw("}")
            }
        case .log(let log):
            header(kind: "{\"schema\":1,\"kind\":\"log\"", id: log.id, ts: log.ts)
            json.member(",\"source\":", log.source)
            json.member(",\"message\":", log.message)
            if let level = log.level { json.member(",\"level\":", level) }
        }
    }

    /// Every event's opening: `{"schema":1,"kind":…,"id":…,"ts":…`.
    private mutating func header(kind opening: StaticString, id: String, ts: String) {
        json.raw(opening)
        json.member(",\"id\":", id)
        json.member(",\"ts\":", ts)
    }

    // MARK: Convenience for paths where one allocation per event does not matter

    public static func encode(_ event: InboundEvent) -> [UInt8] {
        var writer = EventWriter(capacity: 256)
        writer.write(event)
        return writer.bytes
    }

    public static func encode(_ event: ScoredEvent) -> [UInt8] {
        var writer = EventWriter(capacity: 320)
        writer.write(event)
        return writer.bytes
    }

    public static func encode(_ event: EpisodeClosed) -> [UInt8] {
        var writer = EventWriter(capacity: 256)
        writer.write(event)
        return writer.bytes
    }

    public static func encode(_ event: Feedback) -> [UInt8] {
        var writer = EventWriter(capacity: 256)
        writer.write(event)
        return writer.bytes
    }

    public static func encode(_ event: DeadLetter) -> [UInt8] {
        var writer = EventWriter(capacity: 256 + Base64.encodedCount(event.payload.count) * 2)
        writer.write(event)
        return writer.bytes
    }
}

extension Severity {
    /// The JSON string of the severity, written without escaping.
    fileprivate var quoted: StaticString {
        switch self {
        case .none: "\"none\""
        case .warning: "\"warning\""
        case .critical: "\"critical\""
        }
    }
}
