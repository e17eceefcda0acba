// What clients submit to ingest: the envelope fields may be left out, the rest is checked as on the topic.

import Events
import Testing

@Suite struct SubmissionTests {
    let now = "2026-11-21T10:00:00Z"

    func submit(_ text: String, as kind: InboundKind = .reading) throws(EventError) -> InboundEvent {
        try EventCodec.decodeSubmission(Array(text.utf8), as: kind, now: now)
    }

    @Test func aBareReadingGetsAnIDAndTheTime() throws {
        guard
            case .reading(let reading) = try submit(
                #"{"device_id": "edge-1", "temperature": 21.5, "pressure": 1013, "vibration": 0.02}"#)
        else {
            Issue.record("not a reading")
            return
        }
        #expect(reading.deviceID == "edge-1" && reading.value(of: "temperature") == 21.5)
        #expect(reading.ts == now)
        #expect(reading.id.count == 36)
        let other = try submit(#"{"device_id": "edge-1", "temperature": 21.5, "pressure": 1013, "vibration": 0.02}"#)
        #expect(other.id != reading.id)
    }

    @Test func givenEnvelopeFieldsAreKeptAndChecked() throws {
        let full =
            #"{"schema": 1, "kind": "log", "id": "l-7", "ts": "2026-11-21T09:00:00Z", "source": "db", "message": "ok", "level": "INFO"}"#
        #expect(
            try submit(full, as: .log)
                == .log(LogEvent(id: "l-7", ts: "2026-11-21T09:00:00Z", source: "db", message: "ok", level: "INFO")))
        #expect(throws: EventError.self) { try submit(#"{"schema": 2, "source": "db", "message": "ok"}"#, as: .log) }
        #expect(throws: EventError.self) {
            try submit(#"{"ts": "yesterday", "source": "db", "message": "ok"}"#, as: .log)
        }
        #expect(throws: EventError.self) { try submit(#"{"id": "", "source": "db", "message": "ok"}"#, as: .log) }
    }

    @Test func aKindThatDoesNotMatchTheRouteIsRefused() {
        do {
            _ = try submit(#"{"kind": "reading", "source": "db", "message": "ok"}"#, as: .log)
            Issue.record("accepted a reading on the log route")
        } catch {
            #expect(error.code == .unknownKind && error.field == "kind")
            #expect(error.description.contains("\"log\""))
        }
    }

    @Test func badFieldsNameTheField() {
        let cases: [(String, String, EventError.Code)] = [
            (
                #"{"device_id": "edge-1", "temperature": NaN, "pressure": 1, "vibration": 1}"#, "temperature",
                .invalidValue
            ),
            (#"{"device_id": "edge-1", "temperature": 1, "pressure": "high", "vibration": 1}"#, "pressure", .wrongType),
            (#"{"device_id": "edge-1", "temperature": 1, "pressure": 1}"#, "vibration", .missingField),
            (#"{"device_id": "", "temperature": 1, "pressure": 1, "vibration": 1}"#, "device_id", .invalidValue),
        ]
        for (text, field, code) in cases {
            do {
                _ = try submit(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.field == field && error.code == code, "\(text): \(error)")
            }
        }
    }

    @Test func arrayElementsAreFoundWithoutReadingThem() throws {
        let text = #" [ {"a": [1, {"b": "]"}]} , {"c": NaN} ,{}] "#
        let ranges = try Array(text.utf8).withUnsafeBytes { try EventCodec.arrayElements($0) }
        let bytes = Array(text.utf8)
        #expect(
            ranges.map { String(decoding: bytes[$0], as: UTF8.self) } == [
                #"{"a": [1, {"b": "]"}]}"#, #"{"c": NaN}"#, "{}",
            ])
        #expect(try Array("[]".utf8).withUnsafeBytes { try EventCodec.arrayElements($0) }.isEmpty)
        for broken in ["[{}", "[{},]", "{}", "[{}] x"] {
            #expect(throws: EventError.self, "\(broken)") {
                try Array(broken.utf8).withUnsafeBytes { try EventCodec.arrayElements($0) }
            }
        }
    }
}

/// The origin project's producer writes `{"device_id", "features", "ts"}` straight to `readings`.
@Suite struct OriginReadingTests {
    let now = "2026-11-21T10:00:00Z"

    func decode(_ text: String) throws(EventError) -> (event: InboundEvent, origin: Bool) {
        try EventCodec.decodeInbound(Array(text.utf8), originID: { "readings-3-17" }, now: now)
    }

    @Test func theOriginShapeIsAReadingOfTheDefaultProfileWithAnIDFromWhereItIsStored() throws {
        let (event, origin) = try decode(
            #"{"device_id": "edge-4", "features": [75.3, 133.0, 0.89], "ts": 1796610958.2}"#)
        #expect(origin)
        #expect(
            event
                == .reading(
                    Reading(
                        id: "readings-3-17", ts: "2026-12-07T02:35:58.200Z", deviceID: "edge-4", temperature: 75.3,
                        pressure: 133.0, vibration: 0.89)))
        // No ts: now. Our own shape is not taken for it.
        #expect(try decode(#"{"device_id": "edge-4", "features": [1, 0, 0]}"#).event.ts == now)
        let own = try decode(
            #"{"schema": 1, "kind": "reading", "id": "r-1", "ts": "2026-11-21T09:00:00Z", "device_id": "d", "temperature": 1, "pressure": 2, "vibration": 3}"#
        )
        #expect(!own.origin)
    }

    @Test func aBrokenOriginReadingNamesTheField() {
        for (text, field) in [
            (#"{"device_id": "a", "features": [1, 2]}"#, "features"),
            (#"{"device_id": "a", "features": [1, 2, 3, 4]}"#, "features"),
            (#"{"device_id": "a", "features": [1, "2", 3]}"#, "features"),
            (#"{"device_id": "a", "features": {"t": 1}}"#, "features"),
            (#"{"features": [1, 2, 3]}"#, "device_id"),
            (#"{"device_id": "a", "features": [1, 2, 3], "ts": 1e17}"#, "ts"),
            (#"{"device_id": "a", "features": [1, 2, 3], "ts": "yesterday"}"#, "ts"),
            (#"{"device_id": "a", "features": [1, 2, NaN]}"#, nil),
        ] {
            #expect(throws: EventError.self, "\(text)") { try decode(text) }
            if let field {
                do { _ = try decode(text) } catch { #expect(error.field == field, "\(text): \(error)") }
            }
        }
        // Without `features` and `schema`, the reason stays the one every producer gets.
        do { _ = try decode(#"{"device_id": "a"}"#) } catch {
            #expect(error.description.hasPrefix("missing_field: schema"))
        }
    }
}
