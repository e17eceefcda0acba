// Invalid messages are rejected with the right code and field, never a crash or a leaked value.

import Events
import Testing

/// A valid reading with `replacement` spliced in for the text `target`.
private func reading(replacing target: String = "", with replacement: String = "") -> [UInt8] {
    let valid =
        #"{"schema":1,"kind":"reading","id":"r-1","ts":"2026-11-21T07:04:50.123Z","device_id":"pump-0042","temperature":21.5,"pressure":1013.2,"vibration":0.02,"truth":{"anomaly":true,"kind":"spike"}}"#
    return Array((target.isEmpty ? valid : valid.replacing(target, with: replacement)).utf8)
}

private func log(message: String) -> [UInt8] {
    Array(
        #"{"schema":1,"kind":"log","id":"l-1","ts":"2026-11-21T07:04:50Z","source":"api","message":"\#(message)"}"#.utf8
    )
}

/// `input` with the first occurrence of `target` replaced by raw bytes (which need not be UTF-8).
private func splice(_ input: [UInt8], _ target: String, _ bytes: [UInt8]) -> [UInt8] {
    guard let range = input.firstRange(of: Array(target.utf8)) else { return input }
    var result = input
    result.replaceSubrange(range, with: bytes)
    return result
}

struct MalformedCase: Sendable, CustomTestStringConvertible {
    enum Decoder: Sendable { case inbound, scored, deadLetter }

    let name: String
    let input: [UInt8]
    let decoder: Decoder
    let code: EventError.Code
    let field: String?

    init(_ name: String, _ input: [UInt8], _ code: EventError.Code, _ field: String?, decoder: Decoder = .inbound) {
        self.name = name
        self.input = input
        self.code = code
        self.field = field
        self.decoder = decoder
    }

    var testDescription: String { name }

    func decode() throws(EventError) {
        switch decoder {
        case .inbound: _ = try EventCodec.decodeInbound(input)
        case .scored: _ = try EventCodec.decodeScored(input)
        case .deadLetter: _ = try EventCodec.decodeDeadLetter(input)
        }
    }
}

private let validScored =
    #"{"schema":1,"kind":"log","id":"l-1","ts":"2026-11-21T07:04:50Z","source":"api","message":"m","score":0.5,"anomaly":true,"severity":"warning","model":"m@1","scored_at":"2026-11-21T07:04:51Z"}"#
private let validDeadLetter =
    #"{"schema":1,"kind":"dead_letter","id":"d","ts":"2026-11-21T07:04:50Z","reason_code":"x","reason":"y","rejected_by":"z","source":{"topic":"readings","partition":3,"offset":42},"payload_base64":"AAEC"}"#

private func variant(_ base: String, _ target: String, _ replacement: String) -> [UInt8] {
    Array(base.replacing(target, with: replacement).utf8)
}

let malformedCases: [MalformedCase] = [
    // Syntax
    .init("empty input", [], .malformedJSON, nil),
    .init("only whitespace", Array(" \n".utf8), .malformedJSON, nil),
    .init("truncated JSON", Array(reading().prefix(60)), .malformedJSON, nil),
    .init("trailing garbage", reading() + Array(" x".utf8), .malformedJSON, nil),
    .init("two objects", reading() + reading(), .malformedJSON, nil),
    .init("top level is an array", Array("[1,2]".utf8), .malformedJSON, nil),
    .init("top level is a string", Array(#""reading""#.utf8), .malformedJSON, nil),
    .init("trailing comma", reading(replacing: #""spike"}}"#, with: #""spike"},}"#), .malformedJSON, nil),
    .init("single-quoted key", reading(replacing: #""id""#, with: "'id'"), .malformedJSON, nil),
    .init("leading zero", reading(replacing: "21.5", with: "021.5"), .malformedJSON, nil),
    .init("bare decimal point", reading(replacing: "21.5", with: "21."), .malformedJSON, nil),
    .init("invalid UTF-8 byte", splice(reading(), "pump", [0x70, 0xFF]), .malformedJSON, nil),
    .init("overlong UTF-8 encoding", splice(reading(), "pump", [0xC0, 0xAF]), .malformedJSON, nil),
    .init("UTF-8 encoded surrogate", splice(reading(), "pump", [0xED, 0xA0, 0x80]), .malformedJSON, nil),
    .init("invalid escape", reading(replacing: "pump", with: #"pu\xmp"#), .malformedJSON, nil),
    .init("raw control character in string", reading(replacing: "pump", with: "pu\tmp"), .malformedJSON, nil),
    .init("lone high surrogate escape", reading(replacing: "pump", with: #"pu\ud83dmp"#), .malformedJSON, nil),
    .init("lone low surrogate escape", reading(replacing: "pump", with: #"\ude00"#), .malformedJSON, nil),
    .init("high surrogate then non-surrogate", reading(replacing: "pump", with: #"\ud83d\u0041"#), .malformedJSON, nil),
    .init("truncated unicode escape", reading(replacing: "pump", with: #"\u12"#), .malformedJSON, nil),
    .init(
        "nesting deeper than 64",
        reading(
            replacing: #""truth""#,
            with: #""x":\#(String(repeating: "[", count: 65))\#(String(repeating: "]", count: 65)),"truth""#),
        .malformedJSON, nil),
    .init("NaN in an unknown field", reading(replacing: #""truth""#, with: #""x":NaN,"truth""#), .malformedJSON, nil),
    .init("misspelled literal", reading(replacing: "true", with: "tru"), .malformedJSON, nil),
    // Envelope
    .init("schema missing", reading(replacing: #""schema":1,"#, with: ""), .missingField, "schema"),
    .init("schema 2", reading(replacing: #""schema":1"#, with: #""schema":2"#), .unsupportedSchema, "schema"),
    .init("schema as a string", reading(replacing: #""schema":1"#, with: #""schema":"1""#), .wrongType, "schema"),
    .init("kind missing", reading(replacing: #""kind":"reading","#, with: ""), .missingField, "kind"),
    .init("kind metric", reading(replacing: #""kind":"reading""#, with: #""kind":"metric""#), .unknownKind, "kind"),
    .init(
        "dead letter is not inbound", reading(replacing: #""kind":"reading""#, with: #""kind":"dead_letter""#),
        .unknownKind, "kind"),
    .init("id missing", reading(replacing: #""id":"r-1","#, with: ""), .missingField, "id"),
    .init("id empty", reading(replacing: #""id":"r-1""#, with: #""id":"""#), .invalidValue, "id"),
    .init(
        "id longer than 128 bytes", reading(replacing: "r-1", with: String(repeating: "i", count: 129)), .tooLarge, "id"
    ),
    .init("ts not RFC 3339", reading(replacing: "2026-11-21T07:04:50.123Z", with: "yesterday"), .invalidValue, "ts"),
    .init(
        "ts without zone", reading(replacing: "2026-11-21T07:04:50.123Z", with: "2026-11-21T07:04:50"), .invalidValue,
        "ts"),
    .init("ts a number", reading(replacing: #""2026-11-21T07:04:50.123Z""#, with: "1763708690"), .wrongType, "ts"),
    // Reading fields
    .init("device_id missing", reading(replacing: #""device_id":"pump-0042","#, with: ""), .missingField, "device_id"),
    .init("device_id empty", reading(replacing: #""pump-0042""#, with: #""""#), .invalidValue, "device_id"),
    .init(
        "device_id longer than 256 bytes", reading(replacing: "pump-0042", with: String(repeating: "d", count: 257)),
        .tooLarge, "device_id"),
    .init("device_id null", reading(replacing: #""pump-0042""#, with: "null"), .wrongType, "device_id"),
    .init("temperature a string", reading(replacing: "21.5", with: #""hot""#), .wrongType, "temperature"),
    .init("temperature NaN", reading(replacing: "21.5", with: "NaN"), .invalidValue, "temperature"),
    .init("pressure Infinity", reading(replacing: "1013.2", with: "Infinity"), .invalidValue, "pressure"),
    .init("vibration -Infinity", reading(replacing: "0.02", with: "-Infinity"), .invalidValue, "vibration"),
    .init(
        "temperature overflowing to infinity", reading(replacing: "21.5", with: "1e999"), .invalidValue, "temperature"),
    .init(
        "temperature huge integer", reading(replacing: "21.5", with: String(repeating: "9", count: 400)), .invalidValue,
        "temperature"),
    .init("vibration missing", reading(replacing: #","vibration":0.02"#, with: ""), .missingField, "vibration"),
    .init(
        "duplicate key, last one bad",
        reading(replacing: #""temperature":21.5"#, with: #""temperature":21.5,"temperature":"x""#), .wrongType,
        "temperature"),
    .init(
        "truth not an object", reading(replacing: #"{"anomaly":true,"kind":"spike"}"#, with: "true"), .wrongType,
        "truth"),
    .init("truth.anomaly missing", reading(replacing: #""anomaly":true,"#, with: ""), .missingField, "truth.anomaly"),
    .init(
        "truth.anomaly a string", reading(replacing: #""anomaly":true"#, with: #""anomaly":"yes""#), .wrongType,
        "truth.anomaly"),
    .init("truth.kind a number", reading(replacing: #""kind":"spike""#, with: #""kind":3"#), .wrongType, "truth.kind"),
    // Log fields
    .init(
        "log message over 8192 bytes", log(message: String(repeating: "m", count: LogEvent.maxMessageBytes + 1)),
        .tooLarge, "message"),
    .init(
        "log message over 8192 bytes after unescaping", log(message: String(repeating: #"\u00e9"#, count: 4097)),
        .tooLarge, "message"),
    .init(
        "log message missing",
        Array(#"{"schema":1,"kind":"log","id":"l","ts":"2026-11-21T07:04:50Z","source":"a"}"#.utf8), .missingField,
        "message"),
    .init(
        "log source missing",
        Array(#"{"schema":1,"kind":"log","id":"l","ts":"2026-11-21T07:04:50Z","message":"a"}"#.utf8), .missingField,
        "source"),
    .init(
        "log level a number",
        Array(
            #"{"schema":1,"kind":"log","id":"l","ts":"2026-11-21T07:04:50Z","source":"a","message":"m","level":3}"#.utf8
        ), .wrongType, "level"),
    // Scored fields
    .init("scored without score", variant(validScored, #""score":0.5,"#, ""), .missingField, "score", decoder: .scored),
    .init(
        "scored with unknown severity", variant(validScored, "warning", "fatal"), .invalidValue, "severity",
        decoder: .scored),
    .init(
        "scored with anomaly as a number", variant(validScored, #""anomaly":true"#, #""anomaly":1"#), .wrongType,
        "anomaly", decoder: .scored),
    .init(
        "scored without scored_at", variant(validScored, #","scored_at":"2026-11-21T07:04:51Z""#, ""), .missingField,
        "scored_at", decoder: .scored),
    .init("scored with empty model", variant(validScored, #""m@1""#, #""""#), .invalidValue, "model", decoder: .scored),
    .init("plain reading is not scored", reading(), .missingField, "score", decoder: .scored),
    // Dead-letter fields
    .init(
        "dead letter with broken base64", variant(validDeadLetter, "AAEC", "AA!C"), .invalidValue, "payload_base64",
        decoder: .deadLetter),
    .init(
        "dead letter with unpadded base64", variant(validDeadLetter, "AAEC", "AAE"), .invalidValue, "payload_base64",
        decoder: .deadLetter),
    .init(
        "dead letter partition beyond Int32", variant(validDeadLetter, #""partition":3"#, #""partition":2147483648"#),
        .invalidValue, "source.partition", decoder: .deadLetter),
    .init(
        "dead letter offset with a fraction", variant(validDeadLetter, #""offset":42"#, #""offset":4.2"#),
        .invalidValue, "source.offset", decoder: .deadLetter),
    .init(
        "dead letter without source",
        variant(validDeadLetter, #""source":{"topic":"readings","partition":3,"offset":42},"#, ""), .missingField,
        "source", decoder: .deadLetter),
    .init(
        "dead letter without source.topic", variant(validDeadLetter, #""topic":"readings","#, ""), .missingField,
        "source.topic", decoder: .deadLetter),
    .init("reading is not a dead letter", reading(), .unknownKind, "kind", decoder: .deadLetter),
]

@Suite("Malformed input")
struct MalformedInputTests {
    @Test(arguments: malformedCases)
    func malformedInputGivesTheExpectedCodeAndField(_ testCase: MalformedCase) {
        #expect(throws: EventError.self) { try testCase.decode() }
        do {
            try testCase.decode()
        } catch {
            #expect(error.code == testCase.code)
            #expect(error.field == testCase.field)
        }
    }

    @Test func invalidUTF8IsRejectedWherever() {
        for bad: [UInt8] in [
            [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80],
        ] {
            let input =
                Array(#"{"schema":1,"kind":"log","id":"l","ts":"2026-11-21T07:04:50Z","source":"a","message":"x"#.utf8)
                + bad + Array(#""}"#.utf8)
            #expect(inboundError(input)?.code == .malformedJSON)
            let inKey = Array(#"{"k"#.utf8) + bad + Array(#"":1}"#.utf8)
            #expect(inboundError(inKey)?.code == .malformedJSON)
        }
    }

    @Test func nestingOfExactly64LevelsIsAccepted() throws {
        let nested = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        let input = reading(replacing: #""truth""#, with: #""x":\#(nested),"truth""#)
        #expect(throws: Never.self) { try EventCodec.decodeInbound(input) }
    }

    @Test func syntaxErrorsReportTheByteOffset() throws {
        let input = Array(#"{"schema":1,}"#.utf8)
        let error = try #require(inboundError(input))
        #expect(error.code == .malformedJSON)
        #expect(error.message.contains("byte offset 12"))
        #expect(error.description.hasPrefix("malformed_json: invalid JSON at byte offset 12"))
    }

    @Test func errorDescriptionsNameCodeFieldAndProblem() {
        let error = inboundError(reading(replacing: #""device_id":"pump-0042","#, with: ""))
        #expect(error?.description == "missing_field: device_id: required field is missing")
    }

    @Test func errorMessagesNeverContainPayloadValues() {
        let secret = "S3CRET-VALUE"
        let inputs: [[UInt8]] = [
            reading(replacing: "21.5", with: #""\#(secret)""#),
            reading(replacing: #""reading""#, with: #""\#(secret)""#),
            reading(replacing: "2026-11-21T07:04:50.123Z", with: secret),
            reading(replacing: "pump-0042", with: String(repeating: secret, count: 30)),
            reading(replacing: #""schema":1"#, with: #""schema":1,"\#(secret)":tru"#),
            reading(replacing: "pump-0042", with: "\(secret)\u{1}"),
            reading(replacing: #""anomaly":true"#, with: #""anomaly":"\#(secret)""#),
            variant(validScored, "warning", secret),
            variant(validDeadLetter, "AAEC", secret),
        ]
        for input in inputs {
            var descriptions: [String] = []
            do { _ = try EventCodec.decodeInbound(input) } catch { descriptions.append(error.description) }
            do { _ = try EventCodec.decodeScored(input) } catch { descriptions.append(error.description) }
            do { _ = try EventCodec.decodeDeadLetter(input) } catch { descriptions.append(error.description) }
            #expect(!descriptions.isEmpty)
            for description in descriptions {
                #expect(!description.contains(secret))
            }
        }
    }

    @Test func duplicateKeysLetTheLastOneWin() throws {
        let input = reading(
            replacing: #""device_id":"pump-0042""#, with: #""device_id":7,"device_id":"first","device_id":"last""#)
        let event = try EventCodec.decodeInbound(input)
        #expect(event.key == "last")
    }

    @Test func nullOptionalFieldsMeanAbsent() throws {
        let input = reading(replacing: #"{"anomaly":true,"kind":"spike"}"#, with: "null")
        guard case .reading(let r) = try EventCodec.decodeInbound(input) else {
            Issue.record("not a reading")
            return
        }
        #expect(r.truth == nil)
        let noKind = reading(replacing: #""kind":"spike""#, with: #""kind":null"#)
        guard case .reading(let r2) = try EventCodec.decodeInbound(noKind) else { return }
        #expect(r2.truth == GroundTruth(anomaly: true, kind: nil))
    }

    @Test func escapedKeysAndValuesAreDecoded() throws {
        let input = reading(
            replacing: #""device_id":"pump-0042""#,
            with: #""device\u005fid":"p\u00fcmp \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t""#)
        let event = try EventCodec.decodeInbound(input)
        #expect(event.key == "p\u{FC}mp \u{1F600} \"q\" \\ / \u{8}\u{C}\n\r\t")
    }
}
