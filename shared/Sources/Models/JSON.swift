// A small JSON reader and writer for model artifacts, with errors that say where the text broke.

/// A parsed JSON value. Integer literals keep their exact value (seeds are 64-bit), and the
/// non-standard tokens `NaN`, `Infinity` and `-Infinity` (which Python's json module writes)
/// are read as numbers so that validation can name the field instead of failing on syntax.
enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsignedInteger(UInt64)  // only above Int64.max
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .unsignedInteger, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

struct JSONParser {
    /// Deeper nesting than any artifact needs; bounding it keeps hostile input off the stack.
    static let maxDepth = 32

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0

    static func parse(_ input: some Collection<UInt8>) throws(ModelError) -> JSONValue {
        let contiguous = Array(input)
        return try contiguous.withUnsafeBufferPointer { (buffer) throws(ModelError) -> JSONValue in
            var parser = JSONParser(bytes: buffer)
            parser.skipWhitespace()
            let value = try parser.parseValue()
            parser.skipWhitespace()
            guard parser.position == buffer.count else {
                throw parser.failure("unexpected text after the JSON value")
            }
            return value
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private mutating func parseValue() throws(ModelError) -> JSONValue {
        guard position < bytes.count else { throw endOfInput() }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "N"): try expectWord("NaN"); return .number(.nan)
        case UInt8(ascii: "I"): try expectWord("Infinity"); return .number(.infinity)
        case UInt8(ascii: "-") where position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "I"):
            position += 1
            try expectWord("Infinity")
            return .number(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character \(describe(bytes[position]))")
        }
    }

    private mutating func parseObject() throws(ModelError) -> JSONValue {
        try enterContainer()
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw endOfInput() }
            guard bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected a quoted key, found \(describe(bytes[position]))")
            }
            let keyPosition = position
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let value = try parseValue()
            guard members.updateValue(value, forKey: key) == nil else {
                position = keyPosition
                throw failure("key '\(key)' appears twice in one object")
            }
            skipWhitespace()
            guard position < bytes.count else { throw endOfInput() }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            depth -= 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(ModelError) -> JSONValue {
        try enterContainer()
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw endOfInput() }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            depth -= 1
            return .array(elements)
        }
    }

    private mutating func parseNumber() throws(ModelError) -> JSONValue {
        let start = position
        var isInteger = true
        while position < bytes.count {
            let byte = bytes[position]
            if isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
                position += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                isInteger = false
                position += 1
            } else {
                break
            }
        }
        let token = UnsafeBufferPointer(rebasing: bytes[start..<position])
        guard let value = parseDecimal(token, lenient: false) else {
            position = start
            throw failure("malformed number '\(String(decoding: token.prefix(40), as: UTF8.self))'")
        }
        if isInteger {
            let text = String(decoding: token, as: UTF8.self)
            if let exact = Int64(text) { return .integer(exact) }
            if let exact = UInt64(text) { return .unsignedInteger(exact) }
        }
        return .number(value)
    }

    private mutating func parseString() throws(ModelError) -> String {
        let opening = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else {
                position = opening
                throw failure("string never closed (truncated file?)")
            }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    position = opening
                    throw failure("string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw endOfInput() }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else {
                            throw failure("unpaired surrogate in \\u escape")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape") }
                    utf8.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    position -= 1
                    throw failure("invalid escape \\\(describe(escape))")
                }
            case 0x00..<0x20:
                position -= 1
                throw failure("control character inside a string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseHex4() throws(ModelError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw endOfInput() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - 0x41 + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private mutating func enterContainer() throws(ModelError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func expectWord(_ word: StaticString) throws(ModelError) {
        let start = position
        for expected in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard position < bytes.count else { throw endOfInput() }
            guard bytes[position] == expected else {
                position = start
                throw failure("unexpected character \(describe(bytes[start]))")
            }
            position += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(ModelError) {
        guard position < bytes.count else { throw endOfInput() }
        guard bytes[position] == byte else {
            throw failure("expected \(describe(byte)), found \(describe(bytes[position]))")
        }
        position += 1
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func endOfInput() -> ModelError {
        ModelError("not valid JSON: the text ends in the middle of a value (truncated file?)")
    }

    private func failure(_ reason: String) -> ModelError {
        var line = 1
        var column = 1
        for byte in bytes[0..<min(position, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return ModelError("not valid JSON at line \(line), column \(column): \(reason)")
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }
}

/// Appends JSON text to a byte buffer. Numbers are written with Swift's shortest
/// round-tripping form, so reading them back gives the identical Double.
struct JSONOutput {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x00..<0x20:
                let hex = String(byte, radix: 16)
                raw("\\u00" + (hex.count == 1 ? "0" + hex : hex))
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A finite Double; callers validate finiteness before writing.
    mutating func number(_ value: Double) {
        precondition(value.isFinite, "JSONOutput.number: \(value) is not finite")
        raw(value.description)
    }

    mutating func number(_ value: Double?) {
        if let value { number(value) } else { raw("null") }
    }

    mutating func integer(_ value: some BinaryInteger) {
        raw(String(value))
    }

    mutating func array<T>(_ values: [T], _ element: (inout JSONOutput, T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            element(&self, value)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
