// Standard base64 (RFC 4648, padded) for the raw key and payload bytes of dead letters.

enum Base64 {
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    static func encodedCount(_ byteCount: Int) -> Int {
        (byteCount + 2) / 3 * 4
    }

    static func encode(_ bytes: [UInt8], into out: inout [UInt8]) {
        let table = alphabet.utf8Start
        out.reserveCapacity(out.count + encodedCount(bytes.count))
        var i = 0
        while i + 3 <= bytes.count {
            let chunk = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(table[Int(chunk >> 18 & 0x3F)])
            out.append(table[Int(chunk >> 12 & 0x3F)])
            out.append(table[Int(chunk >> 6 & 0x3F)])
            out.append(table[Int(chunk & 0x3F)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let chunk = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(table[Int(chunk >> 18 & 0x3F)])
            out.append(table[Int(chunk >> 12 & 0x3F)])
            out.append(rest == 2 ? table[Int(chunk >> 6 & 0x3F)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
    }

    /// Decodes padded base64; nil if the text is not exactly that (wrong length, a byte outside
    /// the alphabet, misplaced padding). Unused low bits of the last group are ignored.
    static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        if text.isEmpty { return [] }
        var padding = 0
        if text[text.count - 1] == UInt8(ascii: "=") { padding += 1 }
        if padding == 1, text[text.count - 2] == UInt8(ascii: "=") { padding += 1 }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3 - padding)
        var i = 0
        while i < text.count {
            var chunk: UInt32 = 0
            for j in 0..<4 {
                let c = text[i + j]
                let isPadding = i + 4 == text.count && j >= 4 - padding
                let value: UInt8
                if isPadding {
                    value = 0
                } else if let v = sextet(c) {
                    value = v
                } else {
                    return nil
                }
                chunk = chunk << 6 | UInt32(value)
            }
            let produced = i + 4 == text.count ? 3 - padding : 3
            out.append(UInt8(truncatingIfNeeded: chunk >> 16))
            if produced > 1 { out.append(UInt8(truncatingIfNeeded: chunk >> 8)) }
            if produced > 2 { out.append(UInt8(truncatingIfNeeded: chunk)) }
            i += 4
        }
        return out
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
