// SenML (RFC 8428), JSON: what many devices and gateways send. A pack is an array of records;
// base fields (bn, bt, bu, bv) carry over to the records after them. Each record with a numeric
// value is one channel of a reading; records of one resolved time are one reading. Pure: no
// I/O, so every mapping and rejection is tested without a server.
import Events
import Foundation
import Telemetry

enum SenML {
    /// Times below 2^28 s are relative to now (RFC 8428, section 4.5.3).
    static let relativeTimeLimit = 268_435_456.0

    /// The readings of a SenML pack. The device is the base name (`bn`, without a trailing
    /// `:`, `/`, `.`, `-` or `_` separator) when there is one, else `device`; each channel is a
    /// record's own name (`n`) lower-cased, with characters outside `[a-z0-9_.]` made `_`.
    /// String, boolean and data values are skipped; a pack without a numeric value is refused.
    static func readings(
        in body: Data, device: String?, profile: String = Reading.defaultProfile, maxEvents: Int, now: Double
    ) throws(APIError) -> [InboundEvent] {
        guard let pack = try? JSONSerialization.jsonObject(with: body) as? [Any] else {
            throw .badRequest("malformed_json", "a SenML pack is a JSON array of records")
        }
        var baseName = ""
        var baseTime = 0.0
        var baseValue = 0.0
        var readings: [(device: String, time: Double, channels: [Reading.Channel])] = []
        /// Each reading's index by device and time, so a pack of many times costs linear time.
        var readingAt: [String: [Double: Int]] = [:]
        for (index, element) in pack.enumerated() {
            let at = "record \(index + 1)"
            guard let record = element as? [String: Any] else {
                throw .badRequest("wrong_type", "\(at) is not an object")
            }
            if let name = record["bn"] {
                guard let name = name as? String else { throw .badRequest("wrong_type", "\(at): bn must be a string") }
                baseName = name
            }
            if let time = record["bt"] { baseTime = try number(time, "bt", at) }
            if let value = record["bv"] { baseValue = try number(value, "bv", at) }
            guard let raw = record["v"] else { continue }  // vs, vb, vd or a base-only record
            let value = baseValue + (try number(raw, "v", at))
            guard value.isFinite else { throw .badRequest("invalid_value", "\(at): bv + v is not a finite number") }
            guard let own = (record["n"] as? String) ?? (record["n"] == nil ? "" : nil) else {
                throw .badRequest("wrong_type", "\(at): n must be a string")
            }
            let subject = trimmedSeparator(baseName).isEmpty ? device : trimmedSeparator(baseName)
            guard let subject, !subject.isEmpty else {
                throw .badRequest(
                    "missing_field", "\(at): no device: the pack has no base name (bn) and none was given", field: "bn")
            }
            guard subject.utf8.count <= Reading.maxDeviceIDBytes else {
                throw .badRequest("too_large", "\(at): the device id is longer than \(Reading.maxDeviceIDBytes) bytes")
            }
            let channel = channelName(own.isEmpty ? baseName : own)
            guard !channel.isEmpty else { throw .badRequest("missing_field", "\(at): the record has no name") }
            var time = baseTime + (try record["t"].map { (raw) throws(APIError) in try number(raw, "t", at) } ?? 0)
            if time < relativeTimeLimit { time += now }
            guard time >= 0, time < 253_402_300_800 else {
                throw .badRequest("invalid_timestamp", "\(at): the time is outside year 1970 to 9999")
            }
            if let last = readingAt[subject]?[time] {
                guard !readings[last].channels.contains(where: { $0.name == channel }) else {
                    throw .badRequest("duplicate_channel", "\(at): channel '\(channel)' twice at one time")
                }
                guard readings[last].channels.count < Reading.maxChannels else {
                    throw .badRequest("too_large", "\(at): more than \(Reading.maxChannels) channels at one time")
                }
                readings[last].channels.append(.init(channel, value))
            } else {
                guard readings.count < maxEvents else {
                    throw APIError(
                        status: 413, code: "too_many_events", message: "at most \(maxEvents) readings per request")
                }
                readings.append((subject, time, [.init(channel, value)]))
                readingAt[subject, default: [:]][time] = readings.count - 1
            }
        }
        guard !readings.isEmpty else { throw .badRequest("empty", "the pack holds no numeric value (v)") }
        return readings.map { reading in
            .reading(
                Reading(
                    id: EventID.generate(),
                    ts: Timestamp.format(millisecondsSinceEpoch: Int64((reading.time * 1000).rounded())),
                    deviceID: reading.device, profile: profile, channels: reading.channels))
        }
    }

    /// A finite JSON number (not a boolean).
    private static func number(_ value: Any, _ field: String, _ at: String) throws(APIError) -> Double {
        guard !isBoolean(value), let number = value as? NSNumber, number.doubleValue.isFinite else {
            throw .badRequest("wrong_type", "\(at): \(field) must be a finite number", field: field)
        }
        return number.doubleValue
    }

    private static func trimmedSeparator(_ name: String) -> String {
        var name = Substring(name)
        while let last = name.last, ":/.-_".contains(last) { name = name.dropLast() }
        return String(name)
    }

    /// A record's name as a channel name: lower-cased, `[a-z0-9_.]` kept, anything else `_`.
    static func channelName(_ name: String) -> String {
        let bytes = name.lowercased().utf8.map { byte -> UInt8 in
            (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2E ? byte : 0x5F
        }
        return String(decoding: bytes.prefix(Reading.maxNameBytes), as: UTF8.self)
    }
}

/// Whether Foundation's JSON reader made `value` of a JSON `true` or `false`: both booleans and
/// numbers come as NSNumber, and on Linux `1 is Bool` holds, so the class tells them apart.
private func isBoolean(_ value: Any) -> Bool {
    String(describing: type(of: value)).hasSuffix("Boolean")
}
