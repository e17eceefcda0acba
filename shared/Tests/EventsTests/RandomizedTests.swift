// Seeded random events round-trip exactly, and random or damaged bytes only ever throw.

import Events
import Models
import Testing

struct EventGenerator {
    var rng: SplitMix64

    private static let scalars: [Unicode.Scalar] =
        Array("abcxyzABCXYZ0189 -_.:/@\"\\'{}[],".unicodeScalars)
        + (0..<32).map { Unicode.Scalar(UInt8($0)) }
        + [
            "\u{7F}", "\u{E9}", "\u{DF}", "\u{7FF}", "\u{800}", "\u{4E2D}", "\u{2028}", "\u{FEFF}", "\u{FFFD}",
            "\u{FFFF}",
            "\u{10000}", "\u{1F600}", "\u{200D}", "\u{10FFFF}",
        ]

    mutating func int(_ range: Range<Int>) -> Int {
        Int.random(in: range, using: &rng)
    }

    mutating func string(maxLength: Int, nonEmpty: Bool = false) -> String {
        var text = String.UnicodeScalarView()
        let length = int((nonEmpty ? 1 : 0)..<(maxLength + 1))
        for _ in 0..<length {
            text.append(Self.scalars[int(0..<Self.scalars.count)])
        }
        return String(text)
    }

    /// At most `maxBytes` UTF-8 bytes (each scalar above is at most 4).
    mutating func boundedString(maxBytes: Int, nonEmpty: Bool = true) -> String {
        string(maxLength: maxBytes / 4, nonEmpty: nonEmpty)
    }

    mutating func double() -> Double {
        switch int(0..<4) {
        case 0:
            // Any finite bit pattern: subnormals, huge magnitudes, negative zero.
            while true {
                let value = Double(bitPattern: rng.next())
                if value.isFinite { return value }
            }
        case 1: return (Double.random(in: -100...100, using: &rng) * 100).rounded() / 100
        case 2: return Double.random(in: -1e6...1e6, using: &rng)
        default:
            return [
                0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.leastNormalMagnitude, 0.1, 1e22, 1e23,
            ][int(0..<8)]
        }
    }

    mutating func timestamp() -> String {
        let fraction = ["", ".1", ".123", ".123456", ".123456789"][int(0..<5)]
        let zone = ["Z", "z", "+00:00", "-08:30", "+14:00"][int(0..<5)]
        return
            "20\(int(10..<100))-\(pad(int(1..<13)))-\(pad(int(1..<29)))T\(pad(int(0..<24))):\(pad(int(0..<60))):\(pad(int(0..<60)))\(fraction)\(zone)"
    }

    private func pad(_ n: Int) -> String {
        n < 10 ? "0\(n)" : "\(n)"
    }

    mutating func optional<T>(_ make: (inout EventGenerator) -> T) -> T? {
        int(0..<2) == 0 ? nil : make(&self)
    }

    mutating func inbound() -> InboundEvent {
        let id = boundedString(maxBytes: InboundEvent.maxIDBytes)
        if int(0..<2) == 0 {
            return .reading(
                Reading(
                    id: id, ts: timestamp(), deviceID: boundedString(maxBytes: Reading.maxDeviceIDBytes),
                    temperature: double(), pressure: double(), vibration: double(),
                    truth: optional { g in
                        GroundTruth(anomaly: g.int(0..<2) == 0, kind: g.optional { $0.string(maxLength: 12) })
                    }
                ))
        }
        return .log(
            LogEvent(
                id: id, ts: timestamp(), source: boundedString(maxBytes: LogEvent.maxSourceBytes),
                message: string(maxLength: 200), level: optional { $0.string(maxLength: 8) }
            ))
    }

    mutating func scored() -> ScoredEvent {
        ScoredEvent(
            event: inbound(), score: double(), anomaly: int(0..<2) == 0, severity: Severity.allCases[int(0..<3)],
            model: boundedString(maxBytes: 64), scoredAt: timestamp()
        )
    }

    mutating func bytes(maxCount: Int) -> [UInt8] {
        (0..<int(0..<(maxCount + 1))).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    mutating func deadLetter() -> DeadLetter {
        DeadLetter(
            id: boundedString(maxBytes: InboundEvent.maxIDBytes), ts: timestamp(),
            reasonCode: boundedString(maxBytes: 64), reason: string(maxLength: 40),
            rejectedBy: boundedString(maxBytes: 64),
            sourceTopic: boundedString(maxBytes: 64), sourcePartition: Int32.random(in: .min ... .max, using: &rng),
            sourceOffset: Int64.random(in: .min ... .max, using: &rng),
            key: optional { $0.bytes(maxCount: 16) },
            payload: int(0..<2) == 0 ? bytes(maxCount: 64) : Array(string(maxLength: 30).utf8)
        )
    }
}

private func doublesOf(_ event: InboundEvent) -> [UInt64] {
    guard case .reading(let r) = event else { return [] }
    return r.channels.map(\.value.bitPattern)
}

@Suite("Randomized", .computeThread)
struct RandomizedTests {
    @Test func thousandsOfRandomEventsRoundTripExactly() throws {
        var generator = EventGenerator(rng: SplitMix64(seed: 20261121))
        var writer = EventWriter()
        for _ in 0..<3000 {
            let event = generator.inbound()
            writer.reset()
            writer.write(event)
            let decoded = try EventCodec.decodeInbound(writer.bytes)
            #expect(decoded == event)
            #expect(doublesOf(decoded) == doublesOf(event))

            let scored = generator.scored()
            writer.reset()
            writer.write(scored)
            let decodedScored = try EventCodec.decodeScored(writer.bytes)
            #expect(decodedScored == scored)
            #expect(decodedScored.score.bitPattern == scored.score.bitPattern)

            let letter = generator.deadLetter()
            writer.reset()
            writer.write(letter)
            #expect(try EventCodec.decodeDeadLetter(writer.bytes) == letter)
        }
    }

    @Test func randomBytesNeverCrashTheDecodersAndACutEventIsAlwaysRefused() {
        var generator = EventGenerator(rng: SplitMix64(seed: 7))
        let valid = EventWriter.encode(generator.scored())
        var cutAndRefused = 0
        var mutatedAndRefused = 0
        for round in 0..<6000 {
            var input: [UInt8]
            switch round % 3 {
            case 0:
                input = generator.bytes(maxCount: 300)
            case 1:
                input = Array(valid.prefix(generator.int(0..<(valid.count + 1))))
            default:
                // A valid event with a few bytes flipped, dropped or duplicated.
                input = valid
                for _ in 0..<generator.int(1..<4) {
                    let at = generator.int(0..<input.count)
                    switch generator.int(0..<3) {
                    case 0: input[at] = UInt8.random(in: 0...255, using: &generator.rng)
                    case 1: input.remove(at: at)
                    default: input.insert(input[at], at: at)
                    }
                }
            }
            // Success is possible (a harmless mutation); a crash is not.
            _ = try? EventCodec.decodeInbound(input)
            let scored = Result { () throws(EventError) in try EventCodec.decodeScored(input) }
            _ = try? EventCodec.decodeDeadLetter(input)
            if case .failure(let error) = scored {
                #expect(!error.message.isEmpty, "a refusal says why")
            }
            if round % 3 == 1 && input.count < valid.count {
                // A strict prefix of an event is never a whole JSON object.
                if case .success = scored {
                    Issue.record("a cut event (\(input.count) of \(valid.count) bytes) decoded")
                }
                cutAndRefused += 1
            }
            if round % 3 == 2, case .failure = scored { mutatedAndRefused += 1 }
        }
        // The rounds really exercised refusals, not only the happy path.
        #expect(cutAndRefused > 1000)
        #expect(mutatedAndRefused > 100)
    }
}
