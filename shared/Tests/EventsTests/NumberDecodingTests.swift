// Number tokens decode to the correctly rounded Double, on the fast path and the slow one.

import Events
import Models
import Testing

// Swift's Double(String) is the reference: it rounds correctly. (Foundation's
// JSONSerialization on Linux does not always: it reads 0.30000000000000004 as
// 0.3000000000000001, so it is not used as the reference here.)
@Suite("Number decoding")
struct NumberDecodingTests {
    @Test func numbersDecodeToTheCorrectlyRoundedDouble() throws {
        let literals = [
            "0", "-0", "0.1", "1e23", "9007199254740993", "2.2250738585072011e-308", "4.9e-324", "1e-400",
            "123456789012345678901234567890", "0.000001", "1E+2", "1.5e-5", "179769313486231570e291",
            "0.30000000000000004", "12345678901234567890", "6.02214076e23", "-1.602176634E-19",
            "100000000000000000000000", "0.0000000000000000000000000000001",
        ]
        for literal in literals {
            let json =
                #"{"schema":1,"kind":"reading","id":"n","ts":"\#(sampleTS)","device_id":"d","temperature":\#(literal),"pressure":0,"vibration":0}"#
            guard case .reading(let reading) = try decodeInbound(json) else {
                Issue.record("not a reading")
                continue
            }
            let expected = try #require(Double(literal))
            #expect(reading.channels[0].value.bitPattern == expected.bitPattern, "\(literal)")
        }
    }

    @Test func randomNumberLiteralsDecodeToTheCorrectlyRoundedDouble() throws {
        var generator = EventGenerator(rng: SplitMix64(seed: 42))
        for _ in 0..<5000 {
            var literal = generator.int(0..<2) == 0 ? "-" : ""
            let integerDigits = generator.int(1..<25)
            literal += String(generator.int(1..<10))
            for _ in 1..<integerDigits { literal += String(generator.int(0..<10)) }
            if generator.int(0..<2) == 0 {
                literal += "."
                for _ in 0..<generator.int(1..<20) { literal += String(generator.int(0..<10)) }
            }
            if generator.int(0..<2) == 0 {
                literal += ["e", "E", "e-", "e+"][generator.int(0..<4)] + String(generator.int(0..<330))
            }
            let expected = try #require(Double(literal))
            let json =
                #"{"schema":1,"kind":"reading","id":"n","ts":"2026-11-21T07:04:50Z","device_id":"d","temperature":\#(literal),"pressure":0,"vibration":0}"#
            let bytes = Array(json.utf8)
            if expected.isFinite {
                guard case .reading(let r) = try EventCodec.decodeInbound(bytes) else { continue }
                #expect(r.channels[0].value.bitPattern == expected.bitPattern, "\(literal)")
            } else {
                #expect(inboundError(bytes)?.code == .invalidValue)
            }
        }
    }
}
