// Log lines as the classifier sees them: lower-case words with the variable parts masked
// (as log template miners do), so that lines printed by one template look alike.

/// What a masked token stood for.
public enum LogPlaceholder: String, CaseIterable, Sendable {
    case number = "<num>"
    case hex = "<hex>"
    case ip = "<ip>"
    case path = "<path>"
    case uuid = "<uuid>"
    case timestamp = "<ts>"
    case url = "<url>"
}

/// Splits a line into tokens and masks what varies between lines of one template.
///
/// A line is split at whitespace into chunks; `key=value` chunks are split at `=`; brackets,
/// quotes and trailing punctuation are trimmed. A chunk that is as a whole a URL, UUID, IPv4
/// or IPv6 address (a MAC address counts as one), timestamp or date (digits with at least two
/// of `-:./,TZ+` between them), absolute path, hex value (`0x…`, or 8+ hex digits with a
/// digit and a letter) or number (with an optional unit of up to 3 letters or `%`: `250ms`,
/// `4.5GB`, `99%`) becomes that placeholder. Any other chunk is split into words of letters,
/// digits, `_` and non-ASCII bytes; a word of digits is `<num>`, 8+ hex digits with a digit
/// `<hex>`; others are lower-cased with each run of digits collapsed to one `0`
/// (`sda1` → `sda0`, `J12` → `j0`), and cut at 64 bytes.
public enum LogTokenizer {
    /// Changes whenever tokens change: a model records it and refuses another tokenizer.
    public static let version = 1
    /// Only this many tokens of a line count, so an 8 KiB line costs a bounded time.
    public static let maxTokens = 512
    static let maxWordBytes = 64

    /// The masked tokens of `line`, e.g. to show what the model sees.
    public static func tokens(_ line: String) -> [String] {
        var tokens: [String] = []
        var line = line
        line.withUTF8 { bytes in
            forEachToken(in: bytes) { token in
                switch token {
                case .placeholder(let placeholder): tokens.append(placeholder.rawValue)
                case .word(let word): tokens.append(String(decoding: word, as: UTF8.self))
                }
            }
        }
        return tokens
    }

    /// A token, valid only during the call that receives it.
    enum Token {
        case placeholder(LogPlaceholder)
        /// Lower-cased, digit runs collapsed.
        case word(UnsafeBufferPointer<UInt8>)
    }

    /// Calls `body` with each token of `line`, at most `maxTokens` of them.
    static func forEachToken(in line: UnsafeBufferPointer<UInt8>, _ body: (Token) -> Void) {
        withoutActuallyEscaping(body) { body in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxWordBytes) { scratch in
                var splitter = Splitter(line: line, scratch: scratch, body: body)
                splitter.run()
            }
        }
    }

    private struct Splitter {
        let line: UnsafeBufferPointer<UInt8>
        let scratch: UnsafeMutableBufferPointer<UInt8>
        let body: (Token) -> Void
        var emitted = 0

        init(
            line: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<UInt8>,
            body: @escaping (Token) -> Void
        ) {
            self.line = line
            self.scratch = scratch
            self.body = body
        }

        mutating func run() {
            var index = 0
            let end = line.count
            while index < end && emitted < maxTokens {
                while index < end && isSpace(line[index]) { index += 1 }
                let start = index
                while index < end && !isSpace(line[index]) { index += 1 }
                if start < index { chunk(start..<index) }
            }
        }

        private mutating func emit(_ token: Token) {
            guard emitted < maxTokens else { return }
            emitted += 1
            body(token)
        }

        private mutating func chunk(_ range: Range<Int>) {
            let range = trimmed(range)
            guard !range.isEmpty else { return }
            if isURL(range) { return emit(.placeholder(.url)) }
            var partStart = range.lowerBound
            for index in range where line[index] == UInt8(ascii: "=") {
                part(partStart..<index)
                partStart = index + 1
            }
            part(partStart..<range.upperBound)
        }

        private mutating func part(_ range: Range<Int>) {
            let range = trimmed(range)
            guard !range.isEmpty else { return }
            if let placeholder = placeholder(for: range) { return emit(.placeholder(placeholder)) }
            words(range)
        }

        private func placeholder(for range: Range<Int>) -> LogPlaceholder? {
            if isUUID(range) { return .uuid }
            if isIPv4(range) || isIPv6(range) { return .ip }
            if isTimestamp(range) { return .timestamp }
            if isPath(range) { return .path }
            if isHex(range) { return .hex }
            if isNumber(range) { return .number }
            return nil
        }

        private mutating func words(_ range: Range<Int>) {
            var index = range.lowerBound
            while index < range.upperBound {
                while index < range.upperBound && !isWordByte(line[index]) { index += 1 }
                let start = index
                while index < range.upperBound && isWordByte(line[index]) { index += 1 }
                if start < index { word(start..<index) }
            }
        }

        private mutating func word(_ range: Range<Int>) {
            var digits = 0
            var hexOnly = true
            for index in range {
                let byte = line[index]
                if isDigit(byte) { digits += 1 } else if !isHexLetter(byte) { hexOnly = false }
            }
            if digits == range.count { return emit(.placeholder(.number)) }
            if digits > 0 && hexOnly && range.count >= 8 { return emit(.placeholder(.hex)) }
            var count = 0
            var previousWasDigit = false
            for index in range where count < maxWordBytes {
                let byte = line[index]
                if isDigit(byte) {
                    if !previousWasDigit { scratch[count] = UInt8(ascii: "0"); count += 1 }
                    previousWasDigit = true
                } else {
                    scratch[count] = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
                    count += 1
                    previousWasDigit = false
                }
            }
            emit(.word(UnsafeBufferPointer(rebasing: scratch[0..<count])))
        }

        // MARK: Chunk shapes

        private func trimmed(_ range: Range<Int>) -> Range<Int> {
            var lower = range.lowerBound
            var upper = range.upperBound
            while lower < upper && isLeadingPunctuation(line[lower]) { lower += 1 }
            while upper > lower && isTrailingPunctuation(line[upper - 1]) { upper -= 1 }
            return lower..<upper
        }

        private func isURL(_ range: Range<Int>) -> Bool {
            // scheme://…, the scheme made of letters, digits, + - .
            var index = range.lowerBound
            while index < range.upperBound
                && (isLetter(line[index]) || isDigit(line[index])
                    || line[index] == UInt8(ascii: "+") || line[index] == UInt8(ascii: "-")
                    || line[index] == UInt8(ascii: "."))
            { index += 1 }
            guard index > range.lowerBound, index + 2 < range.upperBound else { return false }
            return line[index] == UInt8(ascii: ":") && line[index + 1] == UInt8(ascii: "/")
                && line[index + 2] == UInt8(ascii: "/")
        }

        private func isUUID(_ range: Range<Int>) -> Bool {
            guard range.count == 36 else { return false }
            for (offset, index) in range.enumerated() {
                let byte = line[index]
                if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                    guard byte == UInt8(ascii: "-") else { return false }
                } else if !isHexDigit(byte) {
                    return false
                }
            }
            return true
        }

        /// a.b.c.d with 1–3 digits each, optionally followed by :port or /prefix.
        private func isIPv4(_ range: Range<Int>) -> Bool {
            var index = range.lowerBound
            for group in 0..<4 {
                let start = index
                while index < range.upperBound && isDigit(line[index]) && index - start < 4 { index += 1 }
                guard (1...3).contains(index - start) else { return false }
                if group < 3 {
                    guard index < range.upperBound, line[index] == UInt8(ascii: ".") else { return false }
                    index += 1
                }
            }
            if index == range.upperBound { return true }
            guard line[index] == UInt8(ascii: ":") || line[index] == UInt8(ascii: "/") else { return false }
            index += 1
            guard index < range.upperBound else { return false }
            return line[index..<range.upperBound].allSatisfy(isDigit)
        }

        /// Hex groups and colons: `::` somewhere, or at least five colons (which includes MACs).
        private func isIPv6(_ range: Range<Int>) -> Bool {
            var colons = 0
            var doubleColon = false
            var previous: UInt8 = 0
            for index in range {
                let byte = line[index]
                if byte == UInt8(ascii: ":") {
                    colons += 1
                    if previous == byte { doubleColon = true }
                } else if !isHexDigit(byte) && byte != UInt8(ascii: ".") {
                    return false
                }
                previous = byte
            }
            return colons >= 2 && (doubleColon || colons >= 5)
        }

        private func isTimestamp(_ range: Range<Int>) -> Bool {
            guard isDigit(line[range.lowerBound]) else { return false }
            var digits = 0
            var separators = 0
            for index in range {
                let byte = line[index]
                if isDigit(byte) {
                    digits += 1
                } else if isTimestampSeparator(byte) {
                    separators += 1
                } else {
                    return false
                }
            }
            return digits >= 4 && separators >= 2
        }

        private func isPath(_ range: Range<Int>) -> Bool {
            let first = line[range.lowerBound]
            guard range.count > 1 else { return false }
            if first == UInt8(ascii: "/") {
                return isWordByte(line[range.lowerBound + 1]) || line[range.lowerBound + 1] == UInt8(ascii: ".")
            }
            guard range.count > 2 else { return false }
            let second = line[range.lowerBound + 1]
            if (first == UInt8(ascii: "~") || first == UInt8(ascii: ".")) && second == UInt8(ascii: "/") { return true }
            return first == UInt8(ascii: ".") && second == UInt8(ascii: ".")
                && line[range.lowerBound + 2] == UInt8(ascii: "/")
        }

        private func isHex(_ range: Range<Int>) -> Bool {
            if range.count > 2 && line[range.lowerBound] == UInt8(ascii: "0")
                && (line[range.lowerBound + 1] | 0x20) == UInt8(ascii: "x")
            {
                return line[(range.lowerBound + 2)..<range.upperBound].allSatisfy(isHexDigit)
            }
            guard range.count >= 8 else { return false }
            var digit = false
            var letter = false
            for index in range {
                let byte = line[index]
                if isDigit(byte) { digit = true } else if isHexLetter(byte) { letter = true } else { return false }
            }
            return digit && letter
        }

        /// [+-]digits[(.|,)digits…][unit], the unit `%` or up to three letters.
        private func isNumber(_ range: Range<Int>) -> Bool {
            var index = range.lowerBound
            if line[index] == UInt8(ascii: "+") || line[index] == UInt8(ascii: "-") { index += 1 }
            guard index < range.upperBound, isDigit(line[index]) else { return false }
            while index < range.upperBound {
                let byte = line[index]
                if isDigit(byte) {
                    index += 1
                } else if (byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",")) && index + 1 < range.upperBound
                    && isDigit(line[index + 1])
                {
                    index += 1
                } else {
                    break
                }
            }
            let unit = range.upperBound - index
            if unit == 0 { return true }
            if unit == 1 && line[index] == UInt8(ascii: "%") { return true }
            return unit <= 3 && line[index..<range.upperBound].allSatisfy(isLetter)
        }
    }
}

// MARK: Byte classes

@inline(__always) private func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte)
}

@inline(__always) private func isLetter(_ byte: UInt8) -> Bool {
    ((byte | 0x20) >= UInt8(ascii: "a")) && ((byte | 0x20) <= UInt8(ascii: "z"))
}

@inline(__always) private func isHexLetter(_ byte: UInt8) -> Bool {
    ((byte | 0x20) >= UInt8(ascii: "a")) && ((byte | 0x20) <= UInt8(ascii: "f"))
}

@inline(__always) private func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || isHexLetter(byte)
}

/// Letters, digits, `_` and every byte of a non-ASCII character.
@inline(__always) private func isWordByte(_ byte: UInt8) -> Bool {
    isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte >= 0x80
}

@inline(__always) private func isTimestampSeparator(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ","),
        UInt8(ascii: "T"), UInt8(ascii: "Z"), UInt8(ascii: "+"):
        true
    default: false
    }
}

@inline(__always) private func isLeadingPunctuation(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "<"), UInt8(ascii: "\""),
        UInt8(ascii: "'"), UInt8(ascii: "`"):
        true
    default: false
    }
}

@inline(__always) private func isTrailingPunctuation(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ">"), UInt8(ascii: "\""),
        UInt8(ascii: "'"), UInt8(ascii: "`"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"),
        UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "?"):
        true
    default: false
    }
}
