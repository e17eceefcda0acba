// Timestamps are valid RFC 3339 going out and checked strictly coming in; ids are UUIDs.

import Events
import Foundation
import Testing

@Suite("Timestamp and EventID")
struct TimestampTests {
    @Test func nowIsRFC3339UTCWithMillisecondsAndMatchesTheSystemClock() throws {
        let before = Date()
        let now = Timestamp.now()
        let after = Date()
        #expect(Timestamp.isValidRFC3339(now))
        #expect(now.utf8.count == 24)
        #expect(now.hasSuffix("Z"))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(formatter.date(from: now))
        #expect(parsed.timeIntervalSince(before) > -0.002)
        #expect(after.timeIntervalSince(parsed) > -0.002)
    }

    static let valid = [
        "2026-11-21T07:04:50Z",
        "2026-11-21T07:04:50.123Z",
        "2026-11-21T07:04:50.123456789Z",
        "2026-11-21t07:04:50z",
        "2026-11-21T07:04:50+01:00",
        "2026-11-21T07:04:50.5-08:30",
        "2024-02-29T00:00:00Z",
        "2000-02-29T23:59:59Z",
        "2016-12-31T23:59:60Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999+23:59",
    ]

    static let invalid = [
        "",
        "2026-11-21",
        "2026-11-21 07:04:50Z",
        "2026-11-21T07:04:50",
        "2026-11-21T07:04:50.123",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-21T24:00:00Z",
        "2026-11-21T07:60:00Z",
        "2026-11-21T07:04:61Z",
        "2026-11-21T07:04:50.Z",
        "2026-11-21T07:04:50+0100",
        "2026-11-21T07:04:50+24:00",
        "2026-11-21T07:04:50+01:60",
        "26-11-21T07:04:50Z",
        "2026-1-21T07:04:50Z",
        "2026-11-21T07:04:50ZZ",
        "2026-11-21T07:04:50Z ",
        " 2026-11-21T07:04:50Z",
        "2026/11/21T07:04:50Z",
        "\u{FF12}026-11-21T07:04:50Z",
        "2026-11-21T07:04:50." + String(repeating: "1", count: 60) + "Z",
    ]

    @Test(arguments: valid)
    func acceptsValidRFC3339(_ text: String) {
        #expect(Timestamp.isValidRFC3339(text))
        #expect(Timestamp.isValidRFC3339(text[...]))
    }

    @Test(arguments: invalid)
    func rejectsInvalidRFC3339(_ text: String) {
        #expect(!Timestamp.isValidRFC3339(text))
    }

    @Test func generatedIDsAreDistinctLowerCaseVersion4UUIDs() throws {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = EventID.generate()
            let uuid = try #require(UUID(uuidString: id))
            #expect(uuid.uuidString.lowercased() == id)
            let characters = Array(id)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    @Test func parsedTimesAgreeWithFormattingAndHonourOffsets() throws {
        for milliseconds: Int64 in [0, 1_764_000_000_123, -86_400_000, 951_782_400_000] {
            let text = Timestamp.format(millisecondsSinceEpoch: milliseconds)
            let seconds = try #require(Timestamp.secondsSinceEpoch(text))
            #expect(abs(seconds - Double(milliseconds) / 1000) < 1e-6, "\(text)")
        }
        #expect(Timestamp.secondsSinceEpoch("1970-01-01T01:00:00+01:00") == 0)
        #expect(Timestamp.secondsSinceEpoch("1970-01-01T00:00:00-00:30") == 1800)
        #expect(Timestamp.secondsSinceEpoch("1970-01-01T00:00:00.5Z") == 0.5)
        #expect(Timestamp.secondsSinceEpoch("2026-02-30T00:00:00Z") == nil)
    }
}
