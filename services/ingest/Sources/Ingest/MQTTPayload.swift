// An MQTT message as events. The topic names the device and the kind, `<...>/<device>/readings`
// or `<...>/<device>/logs`; a device id in the payload wins over the topic's. Every shape goes
// through the same decoders as the HTTP routes, so it is validated the same way. Pure: no I/O.
import Events
import Foundation
import Telemetry

enum MQTTPayload {
    /// The events of one message, or why it is refused (the caller dead-letters it).
    ///
    /// On a readings topic: a SenML pack (a JSON array, RFC 8428), Alertron's reading (a JSON
    /// object, `device_id` optional), or a plain `{"<channel>": number, ...}` object.
    /// On a logs topic: Alertron's log event (a JSON object, `source` optional), or the line
    /// itself as UTF-8 text.
    static func events(
        topic: String, payload: [UInt8], maxEvents: Int, now: Date = Date()
    ) throws(APIError)
        -> [InboundEvent]
    {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count >= 2, ["readings", "logs"].contains(levels[levels.count - 1]) else {
            throw .badRequest("unknown_topic", "the topic's last level must be 'readings' or 'logs'")
        }
        let device = String(levels[levels.count - 2])
        guard !device.isEmpty, device.utf8.count <= Reading.maxDeviceIDBytes else {
            throw .badRequest(
                "invalid_value",
                "the level before the last (the device id) must be 1 to \(Reading.maxDeviceIDBytes) bytes")
        }
        guard !payload.isEmpty else { throw .badRequest("empty", "the payload is empty") }
        let first = payload.first { !isJSONSpace($0) }
        let timestamp = Timestamp.format(millisecondsSinceEpoch: Int64(now.timeIntervalSince1970 * 1000))
        if levels[levels.count - 1] == "readings" {
            switch first {
            case UInt8(ascii: "[")?:
                return try SenML.readings(
                    in: Data(payload), device: device, maxEvents: maxEvents, now: now.timeIntervalSince1970)
            case UInt8(ascii: "{")?:
                return [try decode(reading: payload, device: device, now: timestamp)]
            default:
                throw .badRequest(
                    "malformed_json", "a reading is a JSON object or a SenML pack (a JSON array)")
            }
        }
        if first == UInt8(ascii: "{") {
            let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
            return [try decode(payload, object, kind: .log, naming: "source", device, now: timestamp)]
        }
        var line = payload[...]
        while let last = line.last, last == 0x0A || last == 0x0D { line = line.dropLast() }
        guard let message = String(validating: line, as: UTF8.self), !line.isEmpty else {
            throw .badRequest("malformed_json", "a log line is UTF-8 text or a JSON object")
        }
        guard line.count <= LogEvent.maxMessageBytes else {
            throw .badRequest("too_large", "a log line must be at most \(LogEvent.maxMessageBytes) UTF-8 bytes")
        }
        return [.log(LogEvent(id: EventID.generate(), ts: timestamp, source: device, message: message))]
    }

    /// The top-level fields of Alertron's reading.
    private static let readingFields = Set(
        ["schema", "kind", "id", "ts", "device_id", "profile", "values", "truth"] + Reading.legacyChannels)

    /// A JSON object of numbers only, or one without any of Alertron's fields, is the channels
    /// of a reading (so an error names the channel at fault); any other object is Alertron's reading.
    private static func decode(
        reading payload: [UInt8], device: String, now: String
    ) throws(APIError)
        -> InboundEvent
    {
        let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
        // What Foundation cannot read is not rewritten: splicing fields into text that is not
        // one JSON object could turn it into another (`{"a":1},"device_id":"x"` wrapped). The
        // codec reads it as it is and says what is wrong.
        guard let object else { return try decode(payload, as: .reading, now: now) }
        if !object.isEmpty,
            object.values.allSatisfy(isNumber) || object.keys.allSatisfy({ !readingFields.contains($0) })
        {
            var wrapped = Array("{\"device_id\":".utf8)
            JSONString.append(device, to: &wrapped)
            wrapped += Array(",\"values\":".utf8) + payload + [UInt8(ascii: "}")]
            return try decode(wrapped, as: .reading, now: now)
        }
        return try decode(payload, object, kind: .reading, naming: "device_id", device, now: now)
    }

    /// Alertron's event, with the topic's device as `field` when the object has none.
    /// `object` is the payload as Foundation read it (nil: it could not).
    private static func decode(
        _ payload: [UInt8], _ object: [String: Any]?, kind: InboundKind, naming field: String, _ device: String,
        now: String
    ) throws(APIError) -> InboundEvent {
        guard let object, object[field] == nil else { return try decode(payload, as: kind, now: now) }
        let open = payload.firstIndex(of: UInt8(ascii: "{"))!
        var named = Array(payload[...open]) + Array("\"\(field)\":".utf8)
        JSONString.append(device, to: &named)
        if !object.isEmpty { named.append(UInt8(ascii: ",")) }
        named += payload[(open + 1)...]
        return try decode(named, as: kind, now: now)
    }

    private static func decode(_ bytes: [UInt8], as kind: InboundKind, now: String) throws(APIError) -> InboundEvent {
        do {
            return try EventCodec.decodeSubmission(bytes, as: kind, now: now)
        } catch {
            throw .badRequest(error.code.rawValue, error.description, field: error.field)
        }
    }

    private static func isNumber(_ value: Any) -> Bool {
        value is NSNumber && !String(describing: type(of: value)).hasSuffix("Boolean")
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
