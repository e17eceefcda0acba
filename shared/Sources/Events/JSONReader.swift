// A strict RFC 8259 tokenizer over borrowed bytes: the only code that knows JSON syntax.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum JSONValueKind: Equatable {
    case object, array, string, number, bool, null

    var name: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Reads one JSON text token by token. It never copies the input; strings without escapes
/// are handed out as slices of it, escaped ones are decoded into a reusable scratch buffer.
///
/// Strict: only the four RFC 8259 whitespace bytes, no leading zeros, no trailing commas,
/// strings must be valid UTF-8 without raw control characters, `\u` escapes must pair
/// surrogates, nesting deeper than `maxDepth` is rejected. The one extension is that
/// `readDouble` accepts the tokens `NaN`, `Infinity` and `-Infinity` (which some JSON
/// writers emit) so the caller can reject them as invalid values rather than bad syntax;
/// `skipValue` accepts them only when asked to.
struct JSONReader {
    static let maxDepth = 64

    let input: UnsafeRawBufferPointer
    private(set) var offset: Int
    private var depth = 0
    private var scratch: [UInt8] = []

    init(_ input: UnsafeRawBufferPointer, offset: Int = 0) {
        self.input = input
        self.offset = offset
    }

    private func syntaxError(_ what: String, at position: Int? = nil) -> EventError {
        .malformed(at: position ?? offset, what)
    }

    // MARK: Structure

    mutating func skipWhitespace() {
        while offset < input.count {
            switch input[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// The kind of the next value, without consuming it.
    mutating func peekKind() throws(EventError) -> JSONValueKind {
        skipWhitespace()
        guard offset < input.count else { throw syntaxError("unexpected end of input, expected a value") }
        switch input[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "N"), UInt8(ascii: "I"):
            return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: throw syntaxError("unexpected character, expected a value")
        }
    }

    /// Requires that nothing but whitespace follows the value just read.
    mutating func expectEnd() throws(EventError) {
        skipWhitespace()
        guard offset == input.count else { throw syntaxError("unexpected data after the JSON value") }
    }

    private mutating func enterContainer() throws(EventError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw syntaxError("nesting deeper than \(Self.maxDepth) levels") }
    }

    /// Consumes `{`; returns false if the object is empty (its `}` consumed too).
    mutating func beginObject() throws(EventError) -> Bool { try begin(.object) }

    /// After a member's value: consumes `,` and returns true, or consumes `}` and returns false.
    mutating func nextMember() throws(EventError) -> Bool { try next(in: .object) }

    /// Consumes `[`; returns false if the array is empty (its `]` consumed too).
    mutating func beginArray() throws(EventError) -> Bool { try begin(.array) }

    /// After an element: consumes `,` and returns true, or consumes `]` and returns false.
    mutating func nextElement() throws(EventError) -> Bool { try next(in: .array) }

    private enum Container {
        case object, array

        var open: UInt8 { self == .object ? UInt8(ascii: "{") : UInt8(ascii: "[") }
        var close: UInt8 { self == .object ? UInt8(ascii: "}") : UInt8(ascii: "]") }
        var name: String { self == .object ? "an object" : "an array" }
        var item: String { self == .object ? "an object member" : "an array element" }
    }

    @inline(__always)
    private mutating func begin(_ container: Container) throws(EventError) -> Bool {
        skipWhitespace()
        guard offset < input.count, input[offset] == container.open else {
            throw syntaxError("expected '\(Character(Unicode.Scalar(container.open)))'")
        }
        try enterContainer()
        offset += 1
        skipWhitespace()
        if offset < input.count, input[offset] == container.close {
            offset += 1
            depth -= 1
            return false
        }
        return true
    }

    @inline(__always)
    private mutating func next(in container: Container) throws(EventError) -> Bool {
        skipWhitespace()
        guard offset < input.count else { throw syntaxError("unexpected end of input inside \(container.name)") }
        switch input[offset] {
        case UInt8(ascii: ","):
            offset += 1
            return true
        case container.close:
            offset += 1
            depth -= 1
            return false
        default:
            throw syntaxError("expected ',' or '\(Character(Unicode.Scalar(container.close)))' after \(container.item)")
        }
    }

    /// Reads a member's key and the `:` after it. `match` sees the decoded key bytes, which
    /// are only valid during the call, and turns them into something that outlives it.
    mutating func readKey<Key>(_ match: (UnsafeRawBufferPointer) -> Key) throws(EventError) -> Key {
        skipWhitespace()
        guard offset < input.count, input[offset] == UInt8(ascii: "\"") else {
            throw syntaxError("expected a string key")
        }
        let key = try readStringBytes(match)
        skipWhitespace()
        guard offset < input.count, input[offset] == UInt8(ascii: ":") else {
            throw syntaxError("expected ':' after an object key")
        }
        offset += 1
        return key
    }

    /// Skips one complete value, checking its syntax on the way.
    mutating func skipValue(allowingNonFiniteNumber: Bool = false) throws(EventError) {
        switch try peekKind() {
        case .object:
            var more = try beginObject()
            while more {
                try readKey { _ in () }
                try skipValue()
                more = try nextMember()
            }
        case .array:
            var more = try beginArray()
            while more {
                try skipValue()
                more = try nextElement()
            }
        case .string:
            try readStringBytes { _ in () }
        case .number:
            _ = try scanNumber(allowingNonFinite: allowingNonFiniteNumber)
        case .bool:
            _ = try readBool()
        case .null:
            try readNull()
        }
    }

    // MARK: Literals

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard input.count - offset >= count else { return false }
        let bytes = literal.utf8Start
        for i in 0..<count where input[offset + i] != bytes[i] {
            return false
        }
        offset += count
        return true
    }

    mutating func readBool() throws(EventError) -> Bool {
        skipWhitespace()
        if consumeLiteral("true") { return true }
        if consumeLiteral("false") { return false }
        throw syntaxError("invalid literal, expected true or false")
    }

    mutating func readNull() throws(EventError) {
        skipWhitespace()
        guard consumeLiteral("null") else { throw syntaxError("invalid literal, expected null") }
    }

    // MARK: Strings

    /// Reads a string and hands its decoded UTF-8 bytes to `body`; they are only valid
    /// during the call.
    @discardableResult
    mutating func readStringBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) throws(EventError) -> R {
        skipWhitespace()
        guard offset < input.count, input[offset] == UInt8(ascii: "\"") else { throw syntaxError("expected a string") }
        let start = offset + 1
        var i = start
        let end = input.count
        while i < end {
            i = skipPlainASCII(from: i)
            guard i < end else { break }
            let byte = input[i]
            if byte == UInt8(ascii: "\"") {
                offset = i + 1
                return body(UnsafeRawBufferPointer(rebasing: input[start..<i]))
            } else if byte == UInt8(ascii: "\\") {
                return try readEscapedString(from: start, firstEscape: i, body)
            } else {
                i = try stepOverPlain(at: i)
            }
        }
        throw syntaxError("unterminated string")
    }

    /// Steps over a byte inside a string that is neither a quote nor a backslash (the whole
    /// sequence when it starts a multi-byte UTF-8 character); control characters are refused.
    @inline(__always)
    private func stepOverPlain(at i: Int) throws(EventError) -> Int {
        let byte = input[i]
        if byte < 0x20 { throw syntaxError("unescaped control character in a string", at: i) }
        return byte < 0x80 ? i + 1 : try endOfUTF8Sequence(at: i)
    }

    /// Skips 8 bytes at a time while none of them needs a closer look: a quote, a backslash,
    /// a control character or a non-ASCII byte. Returns where bytewise scanning must resume.
    @inline(__always)
    private func skipPlainASCII(from start: Int) -> Int {
        var i = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        while input.count - i >= 8 {
            let word = input.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let quotes = word ^ (ones &* 0x22)
            let backslashes = word ^ (ones &* 0x5C)
            // The classic "has a zero byte" and "has a byte below n" tests; exact for whether
            // any byte matches, which is all that is asked here.
            let hasQuote = (quotes &- ones) & ~quotes
            let hasBackslash = (backslashes &- ones) & ~backslashes
            let hasControl = (word &- ones &* 0x20) & ~word
            if (hasQuote | hasBackslash | hasControl | word) & highBits != 0 { break }
            i += 8
        }
        return i
    }

    private mutating func readEscapedString<R>(
        from start: Int, firstEscape: Int, _ body: (UnsafeRawBufferPointer) -> R
    ) throws(EventError) -> R {
        // Swapped out so that appending to it cannot overlap an access to `self`.
        var out: [UInt8] = []
        swap(&out, &scratch)
        out.removeAll(keepingCapacity: true)
        let end = input.count
        var runStart = start
        var i = firstEscape
        while i < end {
            let byte = input[i]
            if byte == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[runStart..<i]))
                offset = i + 1
                let result = out.withUnsafeBytes(body)
                swap(&out, &scratch)
                return result
            } else if byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[runStart..<i]))
                i = try decodeEscape(at: i, into: &out)
                runStart = i
            } else {
                i = try stepOverPlain(at: i)
            }
        }
        throw syntaxError("unterminated string")
    }

    /// Decodes the escape starting with the backslash at `i`; returns the index after it.
    private func decodeEscape(at i: Int, into out: inout [UInt8]) throws(EventError) -> Int {
        guard i + 1 < input.count else { throw syntaxError("unterminated string") }
        switch input[i + 1] {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4(at: i + 2)
            var scalar = unit
            var next = i + 6
            if (0xD800...0xDBFF).contains(unit) {
                guard next + 1 < input.count, input[next] == UInt8(ascii: "\\"), input[next + 1] == UInt8(ascii: "u")
                else { throw syntaxError("high surrogate escape not followed by a low surrogate", at: i) }
                let low = try hex4(at: next + 2)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw syntaxError("high surrogate escape not followed by a low surrogate", at: i)
                }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                next += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw syntaxError("lone low surrogate escape", at: i)
            }
            appendUTF8(scalar, to: &out)
            return next
        default:
            throw syntaxError("invalid escape sequence", at: i)
        }
        return i + 2
    }

    private func hex4(at i: Int) throws(EventError) -> UInt32 {
        guard i + 4 <= input.count else { throw syntaxError("truncated \\u escape", at: i) }
        var value: UInt32 = 0
        for j in i..<(i + 4) {
            let c = input[j]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c &- UInt8(ascii: "A") &+ 10
            default: throw syntaxError("invalid hex digit in \\u escape", at: j)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    private func endOfUTF8Sequence(at i: Int) throws(EventError) -> Int {
        guard let end = UTF8Validation.endOfSequence(in: input, at: i) else {
            throw syntaxError("invalid UTF-8 in a string", at: i)
        }
        return end
    }

    // MARK: Numbers

    /// A number token's digits, gathered while checking its syntax.
    struct NumberToken {
        var start: Int
        var end: Int
        var negative = false
        /// Up to 19 significant digits; `truncated` says whether more followed.
        var mantissa: UInt64 = 0
        var truncated = false
        /// The value is `mantissa * 10^exponent` (unless truncated).
        var exponent = 0
        var hasFractionOrExponent = false
        /// Set for the `NaN` / `Infinity` tokens.
        var nonFinite: Double?
    }

    mutating func scanNumber(allowingNonFinite: Bool) throws(EventError) -> NumberToken {
        skipWhitespace()
        let end = input.count
        var token = NumberToken(start: offset, end: offset)
        var i = offset
        if i < end, input[i] == UInt8(ascii: "-") {
            token.negative = true
            i += 1
        }
        guard i < end else { throw syntaxError("truncated number") }

        let first = input[i]
        if first == UInt8(ascii: "N") || first == UInt8(ascii: "I") {
            offset = i
            let isNaN = !token.negative && consumeLiteral("NaN")
            guard isNaN || consumeLiteral("Infinity") else { throw syntaxError("invalid literal") }
            guard allowingNonFinite else {
                throw syntaxError("NaN and Infinity are not valid JSON numbers", at: token.start)
            }
            token.nonFinite = isNaN ? .nan : (token.negative ? -.infinity : .infinity)
            token.end = offset
            return token
        }

        var significantDigits = 0
        if first == UInt8(ascii: "0") {
            i += 1
            if i < end, isDigit(input[i]) { throw syntaxError("leading zeros are not allowed", at: token.start) }
        } else if isDigit(first) {
            while i < end, isDigit(input[i]) {
                if significantDigits < 19 {
                    token.mantissa = token.mantissa &* 10 &+ UInt64(input[i] &- 0x30)
                    if token.mantissa != 0 { significantDigits += 1 }
                } else {
                    token.truncated = true
                    token.exponent += 1
                }
                i += 1
            }
        } else {
            throw syntaxError("expected a digit", at: i)
        }

        if i < end, input[i] == UInt8(ascii: ".") {
            token.hasFractionOrExponent = true
            i += 1
            guard i < end, isDigit(input[i]) else { throw syntaxError("expected a digit after '.'", at: i) }
            while i < end, isDigit(input[i]) {
                if significantDigits < 19 {
                    token.mantissa = token.mantissa &* 10 &+ UInt64(input[i] &- 0x30)
                    if token.mantissa != 0 { significantDigits += 1 }
                    token.exponent -= 1
                } else {
                    token.truncated = true
                }
                i += 1
            }
        }

        if i < end, input[i] == UInt8(ascii: "e") || input[i] == UInt8(ascii: "E") {
            token.hasFractionOrExponent = true
            i += 1
            var negativeExponent = false
            if i < end, input[i] == UInt8(ascii: "+") || input[i] == UInt8(ascii: "-") {
                negativeExponent = input[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < end, isDigit(input[i]) else { throw syntaxError("expected a digit in the exponent", at: i) }
            var explicit = 0
            while i < end, isDigit(input[i]) {
                // Saturate: anything this large is out of Double's range either way.
                if explicit < 1_000_000 { explicit = explicit * 10 + Int(input[i] &- 0x30) }
                i += 1
            }
            token.exponent += negativeExponent ? -explicit : explicit
        }

        token.end = i
        offset = i
        return token
    }

    /// Reads a number as a Double; `NaN`, `Infinity` and out-of-range magnitudes come back
    /// non-finite for the caller to reject.
    mutating func readDouble() throws(EventError) -> Double {
        let token = try scanNumber(allowingNonFinite: true)
        return doubleValue(of: token)
    }

    /// Reads a number that must be an integer in Int64's range; nil if it is not.
    mutating func readInt64() throws(EventError) -> Int64? {
        let token = try scanNumber(allowingNonFinite: true)
        guard token.nonFinite == nil, !token.hasFractionOrExponent, !token.truncated else { return nil }
        if token.negative {
            guard token.mantissa <= UInt64(Int64.max) + 1 else { return nil }
            return token.mantissa == UInt64(Int64.max) + 1 ? .min : -Int64(token.mantissa)
        }
        guard token.mantissa <= UInt64(Int64.max) else { return nil }
        return Int64(token.mantissa)
    }

    func doubleValue(of token: NumberToken) -> Double {
        if let special = token.nonFinite { return special }
        if token.mantissa == 0 { return token.negative ? -0.0 : 0.0 }
        // Clinger's fast path: both the mantissa and the power of ten are exact Doubles, so
        // one IEEE multiplication or division rounds correctly.
        if !token.truncated, token.mantissa <= 1 << 53, token.exponent >= -22, token.exponent <= 22 {
            var value = Double(token.mantissa)
            if token.exponent >= 0 {
                value *= exactPowersOfTen[token.exponent]
            } else {
                value /= exactPowersOfTen[-token.exponent]
            }
            return token.negative ? -value : value
        }
        return correctlyRounded(UnsafeRawBufferPointer(rebasing: input[token.start..<token.end]))
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }
}

private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// The slow path: the C library's correctly rounded conversion on a NUL-terminated copy.
/// The token has already been checked against the JSON grammar, which is a subset of what
/// strtod accepts, and Swift programs run in the "C" locale, so '.' is the decimal point.
private func correctlyRounded(_ token: UnsafeRawBufferPointer) -> Double {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: token.count + 1) { buffer in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        raw.copyMemory(from: token)
        buffer[token.count] = 0
        return strtod(buffer.baseAddress!, nil)
    }
}

enum UTF8Validation {
    /// The index after the well-formed UTF-8 sequence starting at `i` (Unicode 15, table 3-7),
    /// or nil if the bytes there are not one.
    static func endOfSequence(in bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0x00...0x7F: return i + 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard bytes.count - i >= length else { return nil }
        let second = bytes[i + 1]
        guard second >= low, second <= high else { return nil }
        for j in (i + 2)..<(i + length) where bytes[j] & 0xC0 != 0x80 {
            return nil
        }
        return i + length
    }

    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < bytes.count {
            if bytes[i] < 0x80 {
                i += 1
            } else if let next = endOfSequence(in: bytes, at: i) {
                i = next
            } else {
                return false
            }
        }
        return true
    }
}
