// Sample events, a seeded generator and decode helpers shared by the Events tests.

import Events
import Testing
@_exported import AlertronTesting

let sampleTS = "2026-11-21T07:04:50.123Z"

func sampleReading(
    id: String = "0b5e1c2a-6d1f-4c4e-9a57-3f2d8e0c1b7a",
    deviceID: String = "pump-0042",
    temperature: Double = 21.5,
    pressure: Double = 1013.2,
    vibration: Double = 0.02,
    truth: GroundTruth? = nil
) -> Reading {
    Reading(
        id: id, ts: sampleTS, deviceID: deviceID,
        temperature: temperature, pressure: pressure, vibration: vibration, truth: truth
    )
}

func sampleLog(message: String = "disk full on /var", level: String? = "ERROR") -> LogEvent {
    LogEvent(
        id: "7d1c2f3e-0000-4000-8000-000000000001", ts: sampleTS, source: "api-gateway", message: message, level: level)
}

func sampleDeadLetter(
    key: [UInt8]? = Array("pump-0042".utf8), payload: [UInt8] = Array("{\"schema\":2}".utf8)
) -> DeadLetter {
    DeadLetter(
        id: "5f0e7c43-2d8a-4d0b-b6c5-9a1e2f3a4b5c", ts: sampleTS,
        reasonCode: "unsupported_schema", reason: "unsupported schema version", rejectedBy: "scorer",
        sourceTopic: "readings", sourcePartition: 3, sourceOffset: 42, key: key, payload: payload
    )
}

/// Strings that exercise every escaping rule: quotes, backslashes, slashes, all C0 controls,
/// DEL, non-ASCII in all UTF-8 lengths, emoji with joiners, and the line separators.
let awkwardStrings: [AwkwardString] = [
    "",
    "plain",
    "say \"hi\"",
    "C:\\temp\\new",
    "a/b</script>",
    String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }),
    "tab\there\nnewline\r\u{0C}\u{08}\u{7F}",
    "caf\u{E9} \u{4E2D}\u{6587} \u{10FFFF}",
    "\u{1F600}\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}",
    "\u{2028}\u{2029}",
    "nul\u{0}inside",
].map(AwkwardString.init)

/// A test argument shown escaped, so control characters do not garble the test log.
struct AwkwardString: Sendable, CustomTestStringConvertible {
    let value: String
    var testDescription: String { value.debugDescription }
}

func decodeInbound(_ json: String) throws(EventError) -> InboundEvent {
    try EventCodec.decodeInbound(Array(json.utf8))
}

func decodeScored(_ json: String) throws(EventError) -> ScoredEvent {
    try EventCodec.decodeScored(Array(json.utf8))
}

func decodeDeadLetter(_ json: String) throws(EventError) -> DeadLetter {
    try EventCodec.decodeDeadLetter(Array(json.utf8))
}

/// The error decoding throws, or nil if it succeeded.
func inboundError(_ bytes: [UInt8]) -> EventError? {
    do {
        _ = try EventCodec.decodeInbound(bytes)
        return nil
    } catch {
        return error
    }
}

/// Equality that also tells 0.0 from -0.0 (and would tell NaN payloads apart).
func bitwiseEqual(_ a: Reading, _ b: Reading) -> Bool {
    a == b && a.channels.map(\.value.bitPattern) == b.channels.map(\.value.bitPattern)
}
