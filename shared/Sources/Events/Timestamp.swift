// RFC 3339 timestamps: the clock's reading as text, and the check every decoded "ts" passes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum Timestamp {
    /// Longer strings are rejected before parsing; a valid timestamp with nanoseconds and an
    /// offset is 35 bytes.
    static let maxBytes = 64

    /// The current time as RFC 3339 UTC with milliseconds, e.g. `2026-11-21T07:04:50.123Z`.
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let milliseconds = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
        return format(millisecondsSinceEpoch: milliseconds)
    }

    /// Formats a Unix time in milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(millisecondsSinceEpoch ms: Int64) -> String {
        // Floor division, so times before 1970 format correctly too.
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millisecond = ms - seconds * 1000
        let day = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let second = seconds - day * 86_400
        let (year, month, dayOfMonth) = civilDate(daysSinceEpoch: day)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int64, _ width: Int, at position: Int) {
                var v = value
                for k in stride(from: position + width - 1, through: position, by: -1) {
                    buffer[k] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                    v /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(dayOfMonth, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(second / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(second / 60 % 60, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(second % 60, 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(millisecond, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whether `s` is an RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS`, an optional fraction,
    /// then `Z` or a `±HH:MM` offset. `T` and `Z` may be lower case (section 5.6); a space in
    /// place of `T` is not accepted. Calendar ranges are checked, including leap years; a
    /// leap second (`:60`) is allowed as the RFC allows it.
    public static func isValidRFC3339(_ s: some StringProtocol) -> Bool {
        let utf8 = s.utf8
        if let result = utf8.withContiguousStorageIfAvailable({ isValidRFC3339(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(utf8).withUnsafeBytes { isValidRFC3339($0) }
    }

    static func isValidRFC3339(_ b: UnsafeRawBufferPointer) -> Bool {
        secondsSinceEpoch(b) != nil
    }

    /// Seconds since the Unix epoch of an RFC 3339 date-time, or nil when it is not one.
    public static func secondsSinceEpoch(_ s: some StringProtocol) -> Double? {
        let utf8 = s.utf8
        if let result = utf8.withContiguousStorageIfAvailable({ secondsSinceEpoch(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(utf8).withUnsafeBytes { secondsSinceEpoch($0) }
    }

    /// The one parser behind validation and time arithmetic: an invalid text is nil.
    static func secondsSinceEpoch(_ b: UnsafeRawBufferPointer) -> Double? {
        guard b.count >= 20, b.count <= maxBytes else { return nil }
        func digits(_ at: Int, _ count: Int) -> Int? {
            var value = 0
            for i in at..<(at + count) {
                let d = b[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                value = value * 10 + Int(d)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var seconds = Double(
            daysSinceEpoch(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400
                + Int64(hour * 3600 + minute * 60 + second))
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            var scale = 0.1
            while i < b.count, b[i] &- UInt8(ascii: "0") < 10 {
                seconds += Double(b[i] &- UInt8(ascii: "0")) * scale
                scale /= 10
                i += 1
            }
            guard i > fractionStart, i < b.count else { return nil }
        }
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            return i + 1 == b.count ? seconds : nil
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard b.count - i == 6, let offsetHour = digits(i + 1, 2), b[i + 3] == UInt8(ascii: ":"),
                let offsetMinute = digits(i + 4, 2), offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            // Local time is UTC plus the offset.
            let offset = Double(offsetHour * 3600 + offsetMinute * 60)
            return b[i] == UInt8(ascii: "+") ? seconds - offset : seconds + offset
        default:
            return nil
        }
    }

    /// Howard Hinnant's civil-to-days algorithm, the inverse of `civilDate`.
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
