// Parsing of --start: an RFC 3339 time as milliseconds since the epoch, the unit in which
// the generator's clock runs (Events' Timestamp formats it back).
import Events

enum EventTime {
    /// Milliseconds since the epoch of an RFC 3339 timestamp (`2026-01-01T00:00:00Z`,
    /// fractions and offsets allowed), or nil when it is not one. Four-digit years only.
    static func parse(_ text: String) -> Int64? {
        Timestamp.secondsSinceEpoch(text).map { Int64(($0 * 1000).rounded()) }
    }
}
