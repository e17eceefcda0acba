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
        json.raw(",\"score\":")
        json.double(event.score)
        json.raw(",\"anomaly\":")
        json.bool(event.anomaly)
        json.raw(",\"severity\":")
        switch event.severity {
        case .none: json.raw("\"none\"")
        case .warning: json.raw("\"warning\"")
        case .critical: json.raw("\"critical\"")
        }
        json.raw(",\"model\":")
        json.string(event.model)
        json.raw(",\"scored_at\":")
        json.string(event.scoredAt)
        json.raw("}")
    }

    public mutating func write(_ event: DeadLetter) {
        json.raw("{\"schema\":1,\"kind\":\"dead_letter\",\"id\":")
        json.string(event.id)
        json.raw(",\"ts\":")
        json.string(event.ts)
        json.raw(",\"reason_code\":")
        json.string(event.reasonCode)
        json.raw(",\"reason\":")
        json.string(event.reason)
        json.raw(",\"rejected_by\":")
        json.string(event.rejectedBy)
        json.raw(",\"source\":{\"topic\":")
        json.string(event.sourceTopic)
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
            json.raw("{\"schema\":1,\"kind\":\"reading\",\"id\":")
            json.string(reading.id)
            json.raw(",\"ts\":")
            json.string(reading.ts)
            json.raw(",\"device_id\":")
            json.string(reading.deviceID)
            json.raw(",\"temperature\":")
            json.double(reading.temperature)
            json.raw(",\"pressure\":")
            json.double(reading.pressure)
            json.raw(",\"vibration\":")
            json.double(reading.vibration)
            if let truth = reading.truth {
                json.raw(",\"truth\":{\"anomaly\":")
                json.bool(truth.anomaly)
                if let kind = truth.kind {
                    json.raw(",\"kind\":")
                    json.string(kind)
                }
                json.raw("}")
            }
        case .log(let log):
            json.raw("{\"schema\":1,\"kind\":\"log\",\"id\":")
            json.string(log.id)
            json.raw(",\"ts\":")
            json.string(log.ts)
            json.raw(",\"source\":")
            json.string(log.source)
            json.raw(",\"message\":")
            json.string(log.message)
            if let level = log.level {
                json.raw(",\"level\":")
                json.string(level)
            }
        }
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

    public static func encode(_ event: DeadLetter) -> [UInt8] {
        var writer = EventWriter(capacity: 256 + Base64.encodedCount(event.payload.count) * 2)
        writer.write(event)
        return writer.bytes
    }
}
