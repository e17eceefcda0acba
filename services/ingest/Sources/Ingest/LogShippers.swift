// What log shippers already send, as Alertron's log events: Loki's push API (JSON) and
// OpenTelemetry's OTLP/HTTP logs (JSON). Pure: no I/O, so every mapping and rejection is tested
// without a server. Loki's push is all-or-nothing, as Alertron's own routes are; OTLP answers
// per record (`partialSuccess`), as its exporters expect.
import Events
import Foundation
import Telemetry

enum LokiPush {
    /// The log lines of a push body `{"streams": [{"stream": {labels}, "values": [["<ns>", "line"
    /// (, {metadata})], ...]}]}`. The source is the label `sourceLabel`, else `service_name`; the
    /// level is the label `level`, `detected_level` or `severity`, when one is there.
    static func events(
        in body: Data, sourceLabel: String, maxEvents: Int
    ) throws(APIError) -> [InboundEvent] {
        guard let root = try? JSONSerialization.jsonObject(with: body) else {
            throw .badRequest("malformed_json", "the body is not valid JSON")
        }
        guard let streams = (root as? [String: Any])?["streams"] as? [Any] else {
            throw .badRequest("missing_field", "expected an object with 'streams' (an array)", field: "streams")
        }
        var events: [InboundEvent] = []
        for (index, element) in streams.enumerated() {
            let at = "streams[\(index)]"
            guard let stream = element as? [String: Any] else {
                throw .badRequest("wrong_type", "\(at) is not an object")
            }
            guard let labels = stream["stream"] as? [String: Any] else {
                throw .badRequest("missing_field", "\(at).stream must be an object of labels", field: "stream")
            }
            let source = (labels[sourceLabel] as? String) ?? (labels["service_name"] as? String)
            guard let source, !source.isEmpty else {
                throw .badRequest(
                    "missing_field", "\(at).stream has neither label '\(sourceLabel)' nor 'service_name' (the source)",
                    field: "stream")
            }
            guard source.utf8.count <= LogEvent.maxSourceBytes else {
                throw .badRequest(
                    "too_large", "\(at): the source must be at most \(LogEvent.maxSourceBytes) UTF-8 bytes",
                    field: "stream")
            }
            let level = ["level", "detected_level", "severity"].lazy.compactMap { labels[$0] as? String }.first
            if let level, level.utf8.count > LogEvent.maxLevelBytes {
                throw .badRequest("too_large", "\(at): label level is longer than \(LogEvent.maxLevelBytes) bytes")
            }
            guard let values = stream["values"] as? [Any] else {
                throw .badRequest("missing_field", "\(at).values must be an array", field: "values")
            }
            for (number, value) in values.enumerated() {
                let at = "\(at).values[\(number)]"
                guard let entry = value as? [Any], (2...3).contains(entry.count),
                    let time = entry[0] as? String, let line = entry[1] as? String
                else {
                    throw .badRequest(
                        "wrong_type", "\(at) must be [\"<nanoseconds>\", \"<line>\"] (and optional metadata)",
                        field: "values")
                }
                guard let nanoseconds = Int64(time), nanoseconds >= 0 else {
                    throw .badRequest(
                        "invalid_timestamp",
                        "\(at)[0] must be nanoseconds since the Unix epoch, found '\(time.prefix(40))'",
                        field: "values")
                }
                guard line.utf8.count <= LogEvent.maxMessageBytes else {
                    throw .badRequest(
                        "too_large", "\(at)[1]: a line must be at most \(LogEvent.maxMessageBytes) UTF-8 bytes",
                        field: "values")
                }
                guard events.count < maxEvents else {
                    throw APIError(
                        status: 413, code: "too_many_events",
                        message: "at most \(maxEvents) lines per request; split the push")
                }
                events.append(
                    .log(
                        LogEvent(
                            id: EventID.generate(), ts: OTLPLogs.timestamp(nanoseconds: nanoseconds),
                            source: source, message: line, level: level)))
            }
        }
        guard !events.isEmpty else { throw .badRequest("empty", "the push holds no lines") }
        return events
    }
}

enum OTLPLogs {
    /// What an OTLP/HTTP export (JSON or protobuf) came to: the records that map to log events,
    /// and those refused (with the first reason), which the answer's `partialSuccess` names.
    struct Export {
        var events: [InboundEvent] = []
        var rejected = 0
        var firstRejection: String?
        let maxEvents: Int
        let now: String

        init(maxEvents: Int, now: String) { (self.maxEvents, self.now) = (maxEvents, now) }

        /// The 200 answer's body in OTLP's JSON encoding.
        var answer: String {
            guard rejected > 0 else { return "{}" }
            return "{\"partialSuccess\":{\"rejectedLogRecords\":\"\(rejected)\",\"errorMessage\":"
                + JSONString.quoted(firstRejection ?? "") + "}}"
        }

        mutating func reject(_ count: Int, _ reason: String) {
            rejected += count
            if firstRejection == nil { firstRejection = reason }
        }

        /// One log record, `at` naming it for a rejection: `message` is its body as text,
        /// `severityText` its level (else `severityNumber`'s name), the first positive of
        /// `times` its time (else now).
        mutating func add(
            source: String, message: String?, severityText: String?, severityNumber: Int64?, times: [Int64?],
            at: @autoclosure () -> String
        ) throws(APIError) {
            let message = message ?? ""
            guard message.utf8.count <= LogEvent.maxMessageBytes else {
                return reject(1, "\(at()).body is longer than \(LogEvent.maxMessageBytes) UTF-8 bytes")
            }
            let level = severityText.flatMap { $0.isEmpty ? nil : $0 } ?? severityNumber.flatMap(OTLPLogs.severityName)
            guard (level?.utf8.count ?? 0) <= LogEvent.maxLevelBytes else {
                return reject(1, "\(at()).severityText is longer than \(LogEvent.maxLevelBytes) bytes")
            }
            guard events.count < maxEvents else {
                throw APIError(
                    status: 413, code: "too_many_events",
                    message: "at most \(maxEvents) log records per request; export smaller batches")
            }
            let nanoseconds = times.lazy.compactMap { $0 }.first { $0 > 0 }
            events.append(
                .log(
                    LogEvent(
                        id: EventID.generate(), ts: nanoseconds.map(OTLPLogs.timestamp(nanoseconds:)) ?? now,
                        source: source,
                        message: message, level: level)))
        }
    }

    /// A JSON body parsed, when it is an OTLP export (an object with `resourceLogs`) rather than
    /// Alertron's own log events; it is parsed only when it names `resourceLogs` at all.
    static func exportRoot(_ body: Data) -> [String: Any]? {
        guard body.range(of: Data("\"resourceLogs\"".utf8)) != nil,
            let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any], root["resourceLogs"] != nil
        else { return nil }
        return root
    }

    /// The log records of an `ExportLogsServiceRequest` in OTLP's JSON encoding: `body` is the
    /// message, `severityText` the level (else one from `severityNumber`), the resource's
    /// `service.name` the source, `timeUnixNano` (else `observedTimeUnixNano`, else now) the time.
    static func export(in body: Data, maxEvents: Int, now: String) throws(APIError) -> Export {
        guard let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw .badRequest("malformed_json", "the body is not a JSON object")
        }
        return try export(root: root, maxEvents: maxEvents, now: now)
    }

    /// `export(in:)` of a body already parsed.
    static func export(root: [String: Any], maxEvents: Int, now: String) throws(APIError) -> Export {
        guard let resourceLogs = root["resourceLogs"] as? [Any] else {
            throw .badRequest("wrong_type", "resourceLogs must be an array", field: "resourceLogs")
        }
        var export = Export(maxEvents: maxEvents, now: now)
        for (r, element) in resourceLogs.enumerated() {
            guard let resourceLog = element as? [String: Any] else {
                throw .badRequest("wrong_type", "resourceLogs[\(r)] is not an object")
            }
            let resource = resourceLog["resource"] as? [String: Any]
            let source =
                attribute("service.name", in: resource?["attributes"]).flatMap(text)
                .flatMap { $0.isEmpty ? nil : $0 } ?? unknownService
            for (s, element) in ((resourceLog["scopeLogs"] as? [Any]) ?? []).enumerated() {
                let records = ((element as? [String: Any])?["logRecords"] as? [Any]) ?? []
                guard source.utf8.count <= LogEvent.maxSourceBytes else {
                    export.reject(records.count, sourceTooLong(r))
                    continue
                }
                for (l, element) in records.enumerated() {
                    let at = "resourceLogs[\(r)].scopeLogs[\(s)].logRecords[\(l)]"
                    guard let record = element as? [String: Any] else {
                        export.reject(1, "\(at) is not an object")
                        continue
                    }
                    try export.add(
                        source: source, message: record["body"].flatMap(text),
                        severityText: record["severityText"] as? String,
                        severityNumber: integer(record["severityNumber"]),
                        times: [integer(record["timeUnixNano"]), integer(record["observedTimeUnixNano"])], at: at)
                }
            }
        }
        return export
    }

    /// The source of records whose resource has no `service.name`, as the SDKs name it.
    static let unknownService = "unknown_service"

    static func sourceTooLong(_ resource: Int) -> String {
        "resourceLogs[\(resource)]: service.name is longer than \(LogEvent.maxSourceBytes) bytes"
    }

    /// RFC 3339 (milliseconds) of a Unix time in nanoseconds.
    static func timestamp(nanoseconds: Int64) -> String {
        Timestamp.format(millisecondsSinceEpoch: nanoseconds / 1_000_000)
    }

    /// OTLP's SeverityNumber ranges: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL.
    static func severityName(_ number: Int64) -> String? {
        switch number {
        case 1...4: "TRACE"
        case 5...8: "DEBUG"
        case 9...12: "INFO"
        case 13...16: "WARN"
        case 17...20: "ERROR"
        case 21...24: "FATAL"
        default: nil
        }
    }

    /// The value of attribute `key` among OTLP `KeyValue`s.
    private static func attribute(_ key: String, in attributes: Any?) -> Any? {
        for case let pair as [String: Any] in (attributes as? [Any]) ?? [] where pair["key"] as? String == key {
            return pair["value"]
        }
        return nil
    }

    /// An `AnyValue` as text: a string as it is; anything else as the JSON of its plain value
    /// (a kvlist as an object, an array as an array), e.g. `{"order":"A-1042","state":"paid"}`.
    private static func text(_ value: Any) -> String? {
        if let string = (value as? [String: Any])?["stringValue"] as? String { return string }
        return plain(value).flatMap(render)
    }

    /// A plain value (string, number, bool, array, object) as text: a string as it is, anything
    /// else as its JSON.
    static func render(_ plain: Any) -> String? {
        if let string = plain as? String { return string }
        guard JSONSerialization.isValidJSONObject([plain]),
            let data = try? JSONSerialization.data(withJSONObject: [plain], options: [.sortedKeys]),
            let array = String(data: data, encoding: .utf8)
        else { return nil }
        return String(array.dropFirst().dropLast())
    }

    /// An `AnyValue` as the JSON value it stands for.
    private static func plain(_ value: Any, depth: Int = 0) -> Any? {
        guard depth < 32, let value = value as? [String: Any] else { return nil }
        if let string = value["stringValue"] as? String { return string }
        if let bool = value["boolValue"] as? Bool { return bool }
        if let number = value["intValue"] { return integer(number).map { NSNumber(value: $0) } }
        if let number = value["doubleValue"] as? NSNumber { return number }
        if let bytes = value["bytesValue"] as? String { return bytes }
        if let array = (value["arrayValue"] as? [String: Any])?["values"] as? [Any] {
            return array.map { plain($0, depth: depth + 1) ?? NSNull() }
        }
        if let pairs = (value["kvlistValue"] as? [String: Any])?["values"] as? [Any] {
            var object: [String: Any] = [:]
            for case let pair as [String: Any] in pairs {
                guard let key = pair["key"] as? String else { continue }
                object[key] = pair["value"].flatMap { plain($0, depth: depth + 1) } ?? NSNull()
            }
            return object
        }
        return nil
    }

    /// OTLP JSON writes 64-bit integers as strings; numbers are accepted too.
    private static func integer(_ value: Any?) -> Int64? {
        if let string = value as? String { return Int64(string) }
        // A number beyond Int64 (1e30) is no time; converting it would trap.
        guard let number = value as? NSNumber, abs(number.doubleValue) < 9.2e18 else { return nil }
        return number.int64Value
    }
}
