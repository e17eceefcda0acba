// Writing an event and decoding the bytes gives the same event back.

import Events
import Testing

@Suite("Round trips through EventWriter and EventCodec")
struct RoundTripTests {
    @Test func readingWithoutTruthRoundTrips() throws {
        let event = InboundEvent.reading(sampleReading())
        #expect(try EventCodec.decodeInbound(EventWriter.encode(event)) == event)
    }

    @Test func readingWithTruthRoundTrips() throws {
        let withKind = InboundEvent.reading(sampleReading(truth: GroundTruth(anomaly: true, kind: "spike")))
        let withoutKind = InboundEvent.reading(sampleReading(truth: GroundTruth(anomaly: false, kind: nil)))
        #expect(try EventCodec.decodeInbound(EventWriter.encode(withKind)) == withKind)
        #expect(try EventCodec.decodeInbound(EventWriter.encode(withoutKind)) == withoutKind)
    }

    @Test func readingIsWrittenInTheDocumentedShape() {
        let event = InboundEvent.reading(sampleReading(truth: GroundTruth(anomaly: true, kind: "spike")))
        let text = String(decoding: EventWriter.encode(event), as: UTF8.self)
        #expect(
            text == """
                {"schema":1,"kind":"reading","id":"0b5e1c2a-6d1f-4c4e-9a57-3f2d8e0c1b7a","ts":"2026-11-21T07:04:50.123Z",\
                "device_id":"pump-0042","temperature":21.5,"pressure":1013.2,"vibration":0.02,\
                "truth":{"anomaly":true,"kind":"spike"}}
                """)
    }

    @Test func logWithAndWithoutLevelRoundTrips() throws {
        for event in [InboundEvent.log(sampleLog()), .log(sampleLog(level: nil))] {
            #expect(try EventCodec.decodeInbound(EventWriter.encode(event)) == event)
        }
        let text = String(decoding: EventWriter.encode(.log(sampleLog(level: nil))), as: UTF8.self)
        #expect(!text.contains("level"))
    }

    @Test func logMessageOfExactlyTheLimitRoundTrips() throws {
        let event = InboundEvent.log(
            sampleLog(message: String(repeating: "\u{E9}", count: LogEvent.maxMessageBytes / 2)))
        #expect(try EventCodec.decodeInbound(EventWriter.encode(event)) == event)
    }

    @Test func scoredReadingAndScoredLogRoundTrip() throws {
        for inbound in [
            InboundEvent.reading(sampleReading(truth: GroundTruth(anomaly: true, kind: nil))), .log(sampleLog()),
        ] {
            for severity in Severity.allCases {
                let scored = ScoredEvent(
                    event: inbound, score: 0.73, anomaly: severity != .none, severity: severity,
                    model: "iforest@3", scoredAt: "2026-11-21T07:04:51.001Z"
                )
                #expect(try EventCodec.decodeScored(EventWriter.encode(scored)) == scored)
            }
        }
    }

    @Test func aLogLinesTemplateAndItsExplanationInWordsRoundTrip() throws {
        let scored = ScoredEvent(
            event: .log(sampleLog()), score: 0.41, anomaly: true, severity: .critical, model: "log_severity@1",
            scoredAt: "2026-11-21T07:04:51.001Z",
            explanation: Explanation(
                detector: "new_template", channels: [], summary: "new template on db-1: `ext0 fs error <*>`"),
            template: LogTemplateRef(id: "0123456789ab", text: "ext0 fs error <*>"))
        let bytes = EventWriter.encode(scored)
        #expect(try EventCodec.decodeScored(bytes) == scored)
        #expect(
            String(decoding: bytes, as: UTF8.self).hasSuffix(
                #","explanation":{"detector":"new_template","channels":[],"summary":"new template on db-1: `ext0 fs error <*>`"},"template":{"id":"0123456789ab","text":"ext0 fs error <*>"}}"#
            ))
    }

    @Test func anAnomalysEpisodeAndExplanationRoundTripInTheirDocumentedShape() throws {
        let explanation = Explanation(
            detector: "shift",
            channels: [
                .init(name: "pressure", value: 1022.5, expected: 1010.25, spread: 3.0625, sigmas: 4, detector: "shift"),
                .init(name: "vibration", value: 0.031, expected: 0.03, spread: 0.003, sigmas: 0.25, detector: "spike"),
            ])
        for phase in EpisodeMark.State.allCases {
            let scored = ScoredEvent(
                event: .reading(sampleReading()), score: 0.61, anomaly: true, severity: .warning,
                model: "device_baseline@1", scoredAt: sampleTS, episode: EpisodeMark(id: "edge-7/e1", state: phase),
                explanation: explanation)
            #expect(try EventCodec.decodeScored(EventWriter.encode(scored)) == scored)
        }
        let text = String(
            decoding: EventWriter.encode(
                ScoredEvent(
                    event: .reading(sampleReading()), score: 0.61, anomaly: true, severity: .warning, model: "m@1",
                    scoredAt: sampleTS, episode: EpisodeMark(id: "edge-7/e1", state: .opened),
                    explanation: Explanation(detector: "stuck", channels: [explanation.channels[1]]))),
            as: UTF8.self)
        #expect(
            text.hasSuffix(
                #","episode":{"id":"edge-7/e1","state":"opened"},"explanation":{"detector":"stuck","channels":["#
                    + #"{"channel":"vibration","value":0.031,"expected":0.03,"spread":0.003,"sigmas":0.25,"#
                    + #""detector":"spike"}]}}"#), "\(text)")
        let wrong = text.replacingOccurrences(of: #""state":"opened""#, with: #""state":"closing""#)
        #expect(throws: EventError.self) { try EventCodec.decodeScored(Array(wrong.utf8)) }
    }

    @Test func theAnomaliesTopicCarriesScoredEventsAndEpisodeEnds() throws {
        let closed = EpisodeClosed(
            ts: sampleTS, deviceID: "edge-7", episodeID: "edge-7/r151", scoredAt: "2026-11-21T07:04:51.001Z")
        #expect(closed.id == "edge-7/r151/closed")
        let bytes = EventWriter.encode(closed)
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"schema":1,"kind":"episode_closed","id":"edge-7/r151/closed","ts":"2026-11-21T07:04:50.123Z","#
                + #""device_id":"edge-7","episode_id":"edge-7/r151","scored_at":"2026-11-21T07:04:51.001Z"}"#)
        #expect(try EventCodec.decodeAnomaly(bytes) == .episodeClosed(closed))
        let scored = ScoredEvent(
            event: .reading(sampleReading()), score: 0.7, anomaly: true, severity: .warning, model: "m@1",
            scoredAt: sampleTS)
        #expect(try EventCodec.decodeAnomaly(EventWriter.encode(scored)) == .scored(scored))
        // Elsewhere an episode's end is no event at all.
        #expect(throws: EventError.self) { try EventCodec.decodeScored(bytes) }
        let forged = String(decoding: bytes, as: UTF8.self).replacingOccurrences(
            of: #""id":"edge-7/r151/closed""#, with: #""id":"x""#)
        #expect(throws: EventError.self) { try EventCodec.decodeAnomaly(Array(forged.utf8)) }
    }

    @Test func feedbackNamesItsSubjectAndRoundTrips() throws {
        let feedback = Feedback(
            id: "device:edge-7/r151/not_anomaly", ts: sampleTS, verdict: .notAnomaly, subject: .device("edge-7"),
            episodeID: "edge-7/r151", readings: ["r151", "r152"], user: "U0A1", incident: "device:edge-7/r151")
        let bytes = EventWriter.encode(feedback)
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"schema":1,"kind":"feedback","id":"device:edge-7/r151/not_anomaly","#
                + #""ts":"2026-11-21T07:04:50.123Z","verdict":"not_anomaly","device_id":"edge-7","#
                + #""episode_id":"edge-7/r151","readings":["r151","r152"],"user":"U0A1","#
                + #""incident":"device:edge-7/r151"}"#)
        #expect(try EventCodec.decodeFeedback(bytes) == feedback)
        var log = feedback
        (log.subject, log.episodeID, log.templates) = (.logSource("api"), nil, ["3f2a9c0d1e4b", "77aa01bc22dd"])
        let logBytes = EventWriter.encode(log)
        #expect(String(decoding: logBytes, as: UTF8.self).hasSuffix(#","templates":["3f2a9c0d1e4b","77aa01bc22dd"]}"#))
        #expect(try EventCodec.decodeFeedback(logBytes) == log)
        let longID = String(decoding: logBytes, as: UTF8.self).replacingOccurrences(
            of: "3f2a9c0d1e4b", with: String(repeating: "a", count: 40))
        #expect(throws: EventError.self) { try EventCodec.decodeFeedback(Array(longID.utf8)) }
        var silence = feedback
        (silence.verdict, silence.subject, silence.until) = (
            .silenced, .alertmanagerGroup("{}:{alertname=\"X\"}"), sampleTS
        )
        #expect(try EventCodec.decodeFeedback(EventWriter.encode(silence)) == silence)
        silence.until = nil
        #expect(throws: EventError.self) { try EventCodec.decodeFeedback(EventWriter.encode(silence)) }
        let text = String(decoding: bytes, as: UTF8.self)
        for (broken, field) in [
            (text.replacingOccurrences(of: "not_anomaly\",\"device", with: "maybe\",\"device"), "verdict"),
            (text.replacingOccurrences(of: #""device_id":"edge-7","#, with: ""), "device_id"),
            (
                text.replacingOccurrences(of: #""device_id":"edge-7","#, with: #""device_id":"a","source":"b","#),
                "device_id"
            ),
            (text.replacingOccurrences(of: #"["r151","r152"]"#, with: "[1]"), "readings"),
            (text.replacingOccurrences(of: #""user":"U0A1","#, with: ""), "user"),
        ] {
            #expect(throws: EventError.self) { try EventCodec.decodeFeedback(Array(broken.utf8)) }
            do {
                _ = try EventCodec.decodeFeedback(Array(broken.utf8))
            } catch {
                #expect(error.field == field, "\(broken)")
            }
        }
        // A scored event is no verdict.
        let scored = ScoredEvent(
            event: .reading(sampleReading()), score: 0.7, anomaly: true, severity: .warning, model: "m@1",
            scoredAt: sampleTS)
        #expect(throws: EventError.self) { try EventCodec.decodeFeedback(EventWriter.encode(scored)) }
    }

    @Test func scoredEventExtendsTheInboundObject() {
        let scored = ScoredEvent(
            event: .log(sampleLog(level: nil)), score: 0.5, anomaly: false, severity: .none,
            model: "logreg@1", scoredAt: sampleTS
        )
        let text = String(decoding: EventWriter.encode(scored), as: UTF8.self)
        #expect(
            text.hasSuffix(
                #","score":0.5,"anomaly":false,"severity":"none","model":"logreg@1","scored_at":"2026-11-21T07:04:50.123Z"}"#
            ))
        #expect(text.hasPrefix(#"{"schema":1,"kind":"log","#))
    }

    @Test func deadLetterRoundTripsWithAndWithoutKey() throws {
        for letter in [sampleDeadLetter(), sampleDeadLetter(key: nil), sampleDeadLetter(key: [], payload: [])] {
            #expect(try EventCodec.decodeDeadLetter(EventWriter.encode(letter)) == letter)
        }
    }

    @Test func deadLetterKeepsInvalidUTF8PayloadOnlyAsBase64() throws {
        let letter = sampleDeadLetter(payload: [0x7B, 0xFF, 0xFE, 0x00, 0x22])
        let bytes = EventWriter.encode(letter)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""payload_base64":"e//+ACI=""#))
        #expect(!text.contains(#""payload":"#))
        #expect(try EventCodec.decodeDeadLetter(bytes) == letter)
    }

    @Test func deadLetterShowsValidUTF8PayloadAsText() {
        let text = String(decoding: EventWriter.encode(sampleDeadLetter(key: nil)), as: UTF8.self)
        #expect(text.hasSuffix(#""payload_base64":"eyJzY2hlbWEiOjJ9","payload":"{\"schema\":2}"}"#))
        #expect(text.contains(#""source":{"topic":"readings","partition":3,"offset":42}"#))
        #expect(!text.contains("key_base64"))
    }

    @Test func deadLetterExtremeSourcePositionsRoundTrip() throws {
        var letter = sampleDeadLetter()
        letter.sourcePartition = .max
        letter.sourceOffset = .min
        #expect(try EventCodec.decodeDeadLetter(EventWriter.encode(letter)) == letter)
        letter.sourcePartition = .min
        letter.sourceOffset = .max
        #expect(try EventCodec.decodeDeadLetter(EventWriter.encode(letter)) == letter)
    }

    @Test(arguments: awkwardStrings)
    func awkwardStringsRoundTripInEveryStringField(_ awkward: AwkwardString) throws {
        let text = awkward.value
        let nonEmpty = text.isEmpty ? "x" : text
        let reading = InboundEvent.reading(
            Reading(
                id: nonEmpty, ts: sampleTS, deviceID: nonEmpty, temperature: 1, pressure: 2, vibration: 3,
                truth: GroundTruth(anomaly: true, kind: text)
            ))
        #expect(try EventCodec.decodeInbound(EventWriter.encode(reading)) == reading)

        let log = InboundEvent.log(LogEvent(id: nonEmpty, ts: sampleTS, source: nonEmpty, message: text, level: text))
        let scored = ScoredEvent(
            event: log, score: 1, anomaly: true, severity: .critical, model: nonEmpty, scoredAt: sampleTS)
        #expect(try EventCodec.decodeScored(EventWriter.encode(scored)) == scored)

        let letter = DeadLetter(
            id: nonEmpty, ts: sampleTS, reasonCode: nonEmpty, reason: text, rejectedBy: nonEmpty,
            sourceTopic: nonEmpty, sourcePartition: 0, sourceOffset: 0, key: Array(text.utf8), payload: Array(text.utf8)
        )
        #expect(try EventCodec.decodeDeadLetter(EventWriter.encode(letter)) == letter)
    }

    @Test func controlCharactersAreWrittenAsEscapes() {
        let log = InboundEvent.log(sampleLog(message: "a\u{1}b\nc\"d\\e\u{1F}"))
        let text = String(decoding: EventWriter.encode(log), as: UTF8.self)
        #expect(text.contains(#""message":"a\u0001b\nc\"d\\e\u001f""#))
        #expect(!text.utf8.contains { $0 < 0x20 })
    }

    static let edgeDoubles: [Double] = [
        // Literals that are not exact Doubles are spelled as conversions to keep the compiler quiet.
        0, -0.0, 1e-300, Double("5e-324")!, -.leastNonzeroMagnitude, 1.7976931348623157e308, -1.7976931348623157e308,
        0.1, 0.2, 0.3, Double(123456789012345678 as Int64), 2.2250738585072014e-308,
        Double.leastNormalMagnitude.nextDown,
        Double(9007199254740993 as Int64), 1e22, 1e23,
        -21.5, 1013.25, 3.141592653589793, 1.0 / 3.0, 100, 1e-7, 4.35, 0.020000000000000004,
    ]

    @Test(arguments: edgeDoubles)
    func doublesRoundTripBitExactly(_ value: Double) throws {
        let neighbour = value.nextUp.isFinite ? value.nextUp : value.nextDown
        let reading = sampleReading(temperature: value, pressure: -value, vibration: neighbour)
        let event = try EventCodec.decodeInbound(EventWriter.encode(.reading(reading)))
        guard case .reading(let decoded) = event else {
            Issue.record("decoded a reading as \(event)")
            return
        }
        #expect(bitwiseEqual(decoded, reading))
        let scored = ScoredEvent(
            event: .reading(reading), score: value, anomaly: false, severity: .none, model: "m@1", scoredAt: sampleTS)
        #expect(try EventCodec.decodeScored(EventWriter.encode(scored)).score.bitPattern == value.bitPattern)
    }

    @Test func writerResetKeepsCapacityAndStartsOver() {
        var writer = EventWriter(capacity: 1024)
        writer.write(InboundEvent.reading(sampleReading()))
        let first = writer.bytes
        let capacity = writer.bytes.capacity
        writer.reset()
        #expect(writer.bytes.isEmpty)
        #expect(writer.bytes.capacity >= capacity)
        writer.write(InboundEvent.reading(sampleReading()))
        #expect(writer.bytes == first)
    }

    @Test func inboundEventExposesIDTimestampAndKafkaKey() {
        let reading = InboundEvent.reading(sampleReading())
        let log = InboundEvent.log(sampleLog())
        #expect(reading.key == "pump-0042")
        #expect(log.key == "api-gateway")
        #expect(reading.id == "0b5e1c2a-6d1f-4c4e-9a57-3f2d8e0c1b7a")
        #expect(log.ts == sampleTS)
    }

    @Test func decodingAcceptsArraysSlicesRawBuffersAndNonContiguousCollections() throws {
        let event = InboundEvent.reading(sampleReading())
        let bytes = EventWriter.encode(event)
        let padded = [0x20] + bytes + [0x20]
        #expect(try EventCodec.decodeInbound(bytes) == event)
        #expect(try EventCodec.decodeInbound(padded[1..<(padded.count - 1)]) == event)
        #expect(try EventCodec.decodeInbound(bytes.lazy.map { $0 }) == event)
        #expect(try bytes.withUnsafeBytes { (raw) throws(EventError) in try EventCodec.decodeInbound(raw) } == event)
    }
}
