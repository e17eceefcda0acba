// OTLP/HTTP logs in protobuf (`application/x-protobuf`), what the OpenTelemetry SDKs' exporters
// send by default: an `ExportLogsServiceRequest` read straight off the wire format, only the
// fields Alertron maps (the field numbers of opentelemetry-proto's logs.proto, common.proto and
// resource.proto); every other field is skipped, as protobuf readers do. A small reader instead
// of generated code: no plugin, no runtime dependency, and every length is checked against the
// bytes there are, so a hostile body is a 400, never a crash.
import Events
import Foundation
import Telemetry

/// Reads protobuf's wire format from a buffer; every read checks its bounds.
struct ProtobufReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    struct Malformed: Error {
        var reason: String
    }

    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    private let end: Int

    init(_ bytes: UnsafeRawBufferPointer) { (self.bytes, position, end) = (bytes, 0, bytes.count) }

    private init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        (self.bytes, position, end) = (bytes, range.lowerBound, range.upperBound)
    }

    var isAtEnd: Bool { position >= end }

    /// The next field's number and wire type.
    mutating func field() throws(Malformed) -> (number: UInt64, wireType: WireType) {
        let tag = try varint()
        guard let wireType = WireType(rawValue: tag & 7) else {
            throw Malformed(reason: "wire type \(tag & 7) (groups are not used by OTLP)")
        }
        guard tag >> 3 > 0 else { throw Malformed(reason: "field number 0") }
        return (tag >> 3, wireType)
    }

    mutating func varint() throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw Malformed(reason: "a varint runs past the end") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed(reason: "a varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func fixed64() throws(Malformed) -> UInt64 {
        guard end - position >= 8 else { throw Malformed(reason: "a fixed64 runs past the end") }
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// A length-delimited field's bytes, as a reader of their own.
    mutating func nested() throws(Malformed) -> ProtobufReader {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw Malformed(reason: "a length runs past the end") }
        defer { position += Int(length) }
        return ProtobufReader(bytes, range: position..<position + Int(length))
    }

    /// A string field: valid UTF-8, as proto3 requires.
    mutating func string() throws(Malformed) -> String {
        let part = try nested()
        guard
            let text = String(
                validating: UnsafeRawBufferPointer(rebasing: bytes[part.position..<part.end]), as: UTF8.self)
        else { throw Malformed(reason: "a string that is not UTF-8") }
        return text
    }

    mutating func bytesField() throws(Malformed) -> [UInt8] {
        let part = try nested()
        return Array(bytes[part.position..<part.end])
    }

    /// Reads to the end, calling `body` with each embedded message of field `number` and
    /// skipping every other field.
    mutating func forEachMessage(
        _ number: UInt64, _ body: (inout ProtobufReader) throws(Malformed) -> Void
    ) throws(Malformed) {
        while !isAtEnd {
            let (field, wireType) = try field()
            guard field == number, wireType == .lengthDelimited else {
                try skip(wireType)
                continue
            }
            var message = try nested()
            try body(&message)
        }
    }

    mutating func skip(_ wireType: WireType) throws(Malformed) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .lengthDelimited: _ = try nested()
        case .fixed32:
            guard end - position >= 4 else { throw Malformed(reason: "a fixed32 runs past the end") }
            position += 4
        }
    }
}

extension OTLPLogs {
    /// The log records of an `ExportLogsServiceRequest` in protobuf, mapped as the JSON ones are.
    /// A body that is not one is a 400; a record whose own fields are malformed is refused alone.
    static func export(protobuf body: UnsafeRawBufferPointer, maxEvents: Int, now: String) throws(APIError) -> Export {
        var export = Export(maxEvents: maxEvents, now: now)
        var request = ProtobufReader(body)
        var resources: [(source: String?, scopes: [[ProtobufReader]])] = []
        do throws(ProtobufReader.Malformed) {
            try request.forEachMessage(1) { (resourceLogs) throws(ProtobufReader.Malformed) in  // resource_logs
                resources.append(try resourceParts(&resourceLogs))
            }
        } catch {
            throw .badRequest("malformed_protobuf", "the body is not an OTLP ExportLogsServiceRequest: \(error.reason)")
        }
        for (resourceIndex, resource) in resources.enumerated() {
            let source = resource.source.flatMap { $0.isEmpty ? nil : $0 } ?? unknownService
            for (scopeIndex, records) in resource.scopes.enumerated() {
                guard source.utf8.count <= LogEvent.maxSourceBytes else {
                    export.reject(records.count, sourceTooLong(resourceIndex))
                    continue
                }
                for (recordIndex, var record) in records.enumerated() {
                    let at = "resourceLogs[\(resourceIndex)].scopeLogs[\(scopeIndex)].logRecords[\(recordIndex)]"
                    let fields: RecordFields
                    do throws(ProtobufReader.Malformed) {
                        fields = try logRecord(&record)
                    } catch {
                        export.reject(1, "\(at): \(error.reason)")
                        continue
                    }
                    try export.add(
                        source: source, message: fields.body.flatMap(render), severityText: fields.severityText,
                        severityNumber: fields.severityNumber, times: [fields.time, fields.observedTime], at: at)
                }
            }
        }
        return export
    }

    /// The 200 answer in protobuf: an `ExportLogsServiceResponse`, empty unless records were refused.
    static func protobufAnswer(_ export: Export) -> [UInt8] {
        guard export.rejected > 0 else { return [] }
        var partial: [UInt8] = [0x08]  // rejected_log_records (1, varint)
        appendVarint(UInt64(export.rejected), to: &partial)
        let message = Array((export.firstRejection ?? "").utf8)
        partial.append(0x12)  // error_message (2, bytes)
        appendVarint(UInt64(message.count), to: &partial)
        partial += message
        var answer: [UInt8] = [0x0A]  // partial_success (1, message)
        appendVarint(UInt64(partial.count), to: &answer)
        return answer + partial
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// `ResourceLogs`: resource (1) and its `service.name`, and each of scope_logs (2) as the
    /// readers of its log_records (2). Fields come in any order: the resource may follow them.
    private static func resourceParts(
        _ reader: inout ProtobufReader
    ) throws(ProtobufReader.Malformed) -> (source: String?, scopes: [[ProtobufReader]]) {
        var source: String?
        var scopes: [[ProtobufReader]] = []
        while !reader.isAtEnd {
            let (number, wireType) = try reader.field()
            switch (number, wireType) {
            case (1, .lengthDelimited):
                var resource = try reader.nested()
                try resource.forEachMessage(1) { (pair) throws(ProtobufReader.Malformed) in  // attributes
                    if let (key, value) = try keyValue(&pair), key == "service.name" { source = value.flatMap(render) }
                }
            case (2, .lengthDelimited):
                var scope = try reader.nested()
                var records: [ProtobufReader] = []
                try scope.forEachMessage(2) { records.append($0) }  // log_records
                scopes.append(records)
            default: try reader.skip(wireType)
            }
        }
        return (source, scopes)
    }

    private struct RecordFields {
        var time: Int64?
        var observedTime: Int64?
        var severityNumber: Int64?
        var severityText: String?
        var body: Any?
    }

    /// `LogRecord`: time_unix_nano (1, fixed64), severity_number (2), severity_text (3), body (5),
    /// observed_time_unix_nano (11, fixed64).
    private static func logRecord(_ reader: inout ProtobufReader) throws(ProtobufReader.Malformed) -> RecordFields {
        var fields = RecordFields()
        while !reader.isAtEnd {
            let (number, wireType) = try reader.field()
            switch (number, wireType) {
            case (1, .fixed64): fields.time = Int64(exactly: try reader.fixed64())
            case (11, .fixed64): fields.observedTime = Int64(exactly: try reader.fixed64())
            case (2, .varint): fields.severityNumber = Int64(truncatingIfNeeded: try reader.varint())
            case (3, .lengthDelimited): fields.severityText = try reader.string()
            case (5, .lengthDelimited):
                var value = try reader.nested()
                fields.body = try anyValue(&value, depth: 0)
            default: try reader.skip(wireType)
            }
        }
        return fields
    }

    /// `KeyValue`: key (1), value (2).
    private static func keyValue(
        _ reader: inout ProtobufReader, depth: Int = 0
    ) throws(ProtobufReader.Malformed) -> (String, Any?)? {
        var key: String?
        var value: Any?
        while !reader.isAtEnd {
            let (number, wireType) = try reader.field()
            switch (number, wireType) {
            case (1, .lengthDelimited): key = try reader.string()
            case (2, .lengthDelimited):
                var nested = try reader.nested()
                value = try anyValue(&nested, depth: depth + 1)
            default: try reader.skip(wireType)
            }
        }
        return key.map { ($0, value) }
    }

    /// `AnyValue` as its plain value: string (1), bool (2), int (3), double (4), array (5),
    /// kvlist (6), bytes (7, as base64 text, as OTLP JSON writes them).
    private static func anyValue(_ reader: inout ProtobufReader, depth: Int) throws(ProtobufReader.Malformed) -> Any? {
        guard depth < 32 else { throw ProtobufReader.Malformed(reason: "values nested deeper than 32") }
        var value: Any?
        while !reader.isAtEnd {
            let (number, wireType) = try reader.field()
            switch (number, wireType) {
            case (1, .lengthDelimited): value = try reader.string()
            case (2, .varint): value = try reader.varint() != 0
            case (3, .varint): value = NSNumber(value: Int64(truncatingIfNeeded: try reader.varint()))
            case (4, .fixed64):
                let double = Double(bitPattern: try reader.fixed64())
                value = double.isFinite ? NSNumber(value: double) : String(describing: double)
            case (5, .lengthDelimited), (6, .lengthDelimited):
                var list = try reader.nested()
                var array: [Any] = []
                var object: [String: Any] = [:]
                try list.forEachMessage(1) { (element) throws(ProtobufReader.Malformed) in  // values
                    if number == 5 {
                        array.append(try anyValue(&element, depth: depth + 1) ?? NSNull())
                    } else if let (key, item) = try keyValue(&element, depth: depth + 1) {
                        object[key] = item ?? NSNull()
                    }
                }
                value = number == 5 ? array : object
            case (7, .lengthDelimited): value = Data(try reader.bytesField()).base64EncodedString()
            default: try reader.skip(wireType)
            }
        }
        return value
    }
}
