// Appends JSON tokens to a reusable byte buffer: the only code that knows JSON output syntax.

struct JSONWriter {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Continues writing after `bytes`.
    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends pre-built JSON such as `,"device_id":`; the literal must be valid where it goes.
    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { escaped(UnsafeRawBufferPointer($0)) }
        if done == nil {
            var copy = value
            copy.withUTF8 { escaped(UnsafeRawBufferPointer($0)) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes bytes already known to be valid UTF-8 as a JSON string.
    mutating func string(utf8 value: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        escaped(value)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Escapes `"`, `\` and the C0 controls, the only bytes RFC 8259 requires escaped;
    /// everything else is copied in runs.
    private mutating func escaped(_ text: UnsafeRawBufferPointer) {
        var runStart = 0
        for i in 0..<text.count {
            let byte = text[i]
            if byte >= 0x20, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") { continue }
            if runStart < i { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[runStart..<i])) }
            runStart = i + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            default:
                let hex: StaticString = "0123456789abcdef"
                bytes.append(contentsOf: [
                    UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)],
                ])
            }
        }
        if runStart < text.count { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[runStart...])) }
    }

    /// Writes a finite Double in its shortest round-tripping form (Swift's `description`,
    /// which is also valid JSON: `21.5`, `-0.0`, `5e-324`, `1.7976931348623157e+308`).
    /// JSON has no NaN or infinity, so a non-finite value is written as `null`, which every
    /// decoder here rejects for a number field.
    mutating func double(_ value: Double) {
        guard value.isFinite else {
            raw("null")
            return
        }
        var text = value.description
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Appends `key` (pre-built, such as `,"ts":`) and the value after it.
    mutating func member(_ key: StaticString, _ value: String) {
        raw(key)
        string(value)
    }

    mutating func member(_ key: StaticString, _ value: Double) {
        raw(key)
        double(value)
    }

    mutating func member(_ key: StaticString, _ value: Bool) {
        raw(key)
        bool(value)
    }

    mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = digits.count
            repeat {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }
}

/// JSON string literals for code that writes JSON by hand outside the event codec (logs,
/// HTTP answers, the Slack sink): the codec's own escaper, so Alertron escapes one way.
public enum JSONString {
    /// Appends `text` as a quoted, escaped JSON string.
    public static func append(_ text: String, to bytes: inout [UInt8]) {
        var writer = JSONWriter(bytes: bytes)
        bytes = []
        writer.string(text)
        bytes = writer.bytes
    }

    /// `text` as a quoted, escaped JSON string.
    public static func quoted(_ text: String) -> String {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
