// Cross-checks against Foundation's JSONSerialization: it reads what we write, we read what it writes.

import Events
import Foundation
import Testing

@Suite("Interoperability with Foundation's JSONSerialization")
struct FoundationInteropTests {
    private func parse(_ bytes: [UInt8]) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(bytes))
        return try #require(object as? [String: Any])
    }

    @Test func foundationParsesAWrittenReadingToTheSameValues() throws {
        let reading = sampleReading(
            deviceID: "pump \"7\" \\ \u{1}\u{1F600}", temperature: 0.1, pressure: -1013.25,
            vibration: .leastNonzeroMagnitude,
            truth: GroundTruth(anomaly: true, kind: "drift")
        )
        let object = try parse(EventWriter.encode(.reading(reading)))
        #expect(object["schema"] as? Int == 1)
        #expect(object["kind"] as? String == "reading")
        #expect(object["id"] as? String == reading.id)
        #expect(object["ts"] as? String == reading.ts)
        #expect(object["device_id"] as? String == reading.deviceID)
        #expect(object["temperature"] as? Double == 0.1)
        #expect(object["pressure"] as? Double == -1013.25)
        let truth = try #require(object["truth"] as? [String: Any])
        #expect(truth["anomaly"] as? Bool == true)
        #expect(truth["kind"] as? String == "drift")
    }

    @Test(arguments: awkwardStrings)
    func foundationParsesEveryWrittenStringBack(_ awkward: AwkwardString) throws {
        let text = awkward.value
        let scored = ScoredEvent(
            event: .log(LogEvent(id: "id-1", ts: sampleTS, source: "svc", message: text, level: text)),
            score: 0.25, anomaly: true, severity: .warning, model: "logreg@2", scoredAt: sampleTS
        )
        let object = try parse(EventWriter.encode(scored))
        #expect(object["message"] as? String == text)
        #expect(object["level"] as? String == text)
        #expect(object["severity"] as? String == "warning")
        #expect(object["scored_at"] as? String == sampleTS)
        #expect(object["score"] as? Double == 0.25)
    }

    @Test func foundationParsesAWrittenDeadLetterWithDecodableBase64() throws {
        let letter = sampleDeadLetter(payload: Array("caf\u{E9} \u{1F600}\n".utf8))
        let object = try parse(EventWriter.encode(letter))
        #expect(object["reason_code"] as? String == "unsupported_schema")
        #expect(object["payload"] as? String == "caf\u{E9} \u{1F600}\n")
        let payloadText = try #require(object["payload_base64"] as? String)
        let payload = try #require(Data(base64Encoded: payloadText))
        #expect(Array(payload) == letter.payload)
        let keyText = try #require(object["key_base64"] as? String)
        let key = try #require(Data(base64Encoded: keyText))
        #expect(Array(key) == letter.key)
        let source = try #require(object["source"] as? [String: Any])
        #expect(source["topic"] as? String == "readings")
        #expect(source["partition"] as? Int == 3)
        #expect(source["offset"] as? Int == 42)
    }

    @Test func readingWrittenByFoundationWithOtherKeyOrderAndUnknownFieldsDecodes() throws {
        let object: [String: Any] = [
            "vibration": 0.02,
            "device_id": "compressor/eu-west-0421",
            "meta": ["firmware": "1.2.3", "channels": [1, 2, ["x": NSNull()]], "empty": [String: Any]()],
            "tags": ["a", "b"],
            "ts": "2026-11-21T07:04:50.123+02:00",
            "temperature": 21.5,
            "kind": "reading",
            "pressure": 1013,
            "id": "r-1",
            "truth": ["extra": [true, false], "kind": "spike", "anomaly": true],
            "schema": 1,
            "z_last": NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        let event = try EventCodec.decodeInbound(Array(data))
        #expect(
            event
                == .reading(
                    Reading(
                        id: "r-1", ts: "2026-11-21T07:04:50.123+02:00", deviceID: "compressor/eu-west-0421",
                        temperature: 21.5, pressure: 1013, vibration: 0.02,
                        truth: GroundTruth(anomaly: true, kind: "spike")
                    )))
    }

    @Test func scoredLogWrittenByFoundationDecodes() throws {
        let object: [String: Any] = [
            "scored_at": "2026-11-21T07:04:51Z", "model": "logreg@2", "severity": "critical", "anomaly": true,
            "score": 0.97, "message": "OOM killer invoked: \"java\"", "source": "node-3", "ts": sampleTS,
            "id": "l-9", "kind": "log", "schema": 1, "extra": [["nested": [[[]]]]],
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let scored = try EventCodec.decodeScored(Array(data))
        #expect(
            scored
                == ScoredEvent(
                    event: .log(
                        LogEvent(id: "l-9", ts: sampleTS, source: "node-3", message: "OOM killer invoked: \"java\"")),
                    score: 0.97, anomaly: true, severity: .critical, model: "logreg@2", scoredAt: "2026-11-21T07:04:51Z"
                ))
    }

    @Test func deadLetterWrittenByFoundationDecodes() throws {
        let payload: [UInt8] = [0, 1, 2, 0xFF, 0x7B]
        let object: [String: Any] = [
            "payload_base64": Data(payload).base64EncodedString(),
            "source": ["offset": 9_000_000_000, "partition": 5, "topic": "readings"],
            "rejected_by": "ingest", "reason": "bad", "reason_code": "malformed_json", "ts": sampleTS, "id": "d-1",
            "kind": "dead_letter", "schema": 1, "key_base64": NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let letter = try EventCodec.decodeDeadLetter(Array(data))
        #expect(
            letter
                == DeadLetter(
                    id: "d-1", ts: sampleTS, reasonCode: "malformed_json", reason: "bad", rejectedBy: "ingest",
                    sourceTopic: "readings", sourcePartition: 5, sourceOffset: 9_000_000_000, key: nil, payload: payload
                ))
    }
}
