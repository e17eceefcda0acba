// Text to Double for the CSV reader: exact, locale-free and allocation-free when it can be.

/// Parses a decimal number (`-12`, `3.25`, `1e-05`, `+1`, `.5`, `1.`)
/// spanning all of `bytes`. Returns nil when the text is not such a number; an out-of-range
/// literal becomes ±infinity, which callers reject as not finite.
///
/// Up to 19 significant digits and a power of ten within ±22 take Clinger's exact fast path
/// (both operands are exact doubles, so one rounding gives the correctly rounded result);
/// anything longer goes to the standard library's correctly rounded parser.
func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    let count = bytes.count
    var i = 0
    var negative = false
    if i < count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
        negative = bytes[i] == UInt8(ascii: "-")
        i += 1
    }
    var mantissa: UInt64 = 0
    var significantDigits = 0
    func accumulate(_ digit: UInt8) {
        if significantDigits == 0, digit == UInt8(ascii: "0") { return }  // leading zeros
        significantDigits += 1
        if significantDigits <= 19 {
            mantissa = mantissa &* 10 &+ UInt64(digit - 0x30)
        }
    }
    var exponent = 0
    var integerDigits = 0
    while i < count, isDigit(bytes[i]) {
        accumulate(bytes[i])
        integerDigits += 1
        i += 1
    }
    var fractionDigits = 0
    if i < count, bytes[i] == UInt8(ascii: ".") {
        i += 1
        while i < count, isDigit(bytes[i]) {
            accumulate(bytes[i])
            exponent -= 1
            fractionDigits += 1
            i += 1
        }
    }
    guard integerDigits + fractionDigits > 0 else { return nil }
    if i < count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
        i += 1
        var exponentNegative = false
        if i < count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            exponentNegative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var written = 0
        var digits = 0
        while i < count, isDigit(bytes[i]) {
            if written < 100_000 { written = written * 10 + Int(bytes[i] - 0x30) }
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        exponent += exponentNegative ? -written : written
    }
    guard i == count else { return nil }

    if significantDigits <= 19, mantissa <= (1 << 53), (-22...22).contains(exponent) {
        var value = Double(mantissa)
        if exponent < 0 { value /= exactPowersOfTen[-exponent] } else { value *= exactPowersOfTen[exponent] }
        return negative ? -value : value
    }
    return Double(String(decoding: bytes, as: UTF8.self))
}

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]
