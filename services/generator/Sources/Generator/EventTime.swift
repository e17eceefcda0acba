// Timestamps of generated events: RFC 3339 UTC text for any instant (Events' formatter only
// formats "now"), and parsing of --start.
import Events
import Foundation

enum EventTime {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds, the form Events writes.
    static func format(millisecondsSinceEpoch ms: Int64) -> String {
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
    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
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

    /// Milliseconds since the epoch of an RFC 3339 timestamp (`2026-01-01T00:00:00Z`,
    /// fractions and offsets allowed), or nil when it is not one. Four-digit years only.
    static func parse(_ text: String) -> Int64? {
        guard Timestamp.isValidRFC3339(text) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }
}
