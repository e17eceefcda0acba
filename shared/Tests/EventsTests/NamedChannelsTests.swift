// Readings of any device type: named channels in `values`, a `profile`, and the three legacy
// fields of the default profile, through the codec and back.
import Events
import Testing

@Suite struct NamedChannelsTests {
    private let head = #"{"schema":1,"kind":"reading","id":"r1","ts":"2026-12-07T10:00:00Z","device_id":"pump-3""#

    private func reading(_ members: String) throws -> Reading {
        guard case .reading(let reading) = try EventCodec.decodeInbound(Array((head + members + "}").utf8)) else {
            throw EventError(code: .unknownKind, field: nil, message: "not a reading")
        }
        return reading
    }

    private func error(_ members: String) -> EventError? { inboundError(Array((head + members + "}").utf8)) }

    @Test func namedChannelsAndAProfileRoundTripInTheirOrder() throws {
        let pump = try reading(#","profile":"pump","values":{"flow":32.1,"current":1.33,"temp.bearing_2":-4e-3}"#)
        #expect(pump.profile == "pump")
        #expect(pump.channels == [.init("flow", 32.1), .init("current", 1.33), .init("temp.bearing_2", -0.004)])
        #expect(pump.value(of: "current") == 1.33 && pump.value(of: "temperature") == nil)
        let written = String(decoding: EventWriter.encode(.reading(pump)), as: UTF8.self)
        #expect(written.contains(#""profile":"pump","values":{"flow":32.1,"current":1.33,"temp.bearing_2":-0.004}"#))
        #expect(try EventCodec.decodeInbound(Array(written.utf8)) == .reading(pump))
    }

    @Test func legacyFieldsAreTheDefaultProfilesChannelsAndStayLegacyOnTheWire() throws {
        let legacy = try reading(#","temperature":21.5,"pressure":1009,"vibration":0.02"#)
        #expect(legacy.profile == Reading.defaultProfile && legacy.isLegacyShape)
        #expect(legacy.channels.map(\.name) == Reading.legacyChannels)
        let written = String(decoding: EventWriter.encode(.reading(legacy)), as: UTF8.self)
        #expect(written.contains(#""temperature":21.5,"pressure":"#) && !written.contains("values"))
        // Beside `values` any of them may come alone; they come first.
        let mixed = try reading(#","values":{"humidity":40},"temperature":21.5"#)
        #expect(mixed.channels == [.init("temperature", 21.5), .init("humidity", 40)])
        #expect(try EventCodec.decodeInbound(EventWriter.encode(.reading(mixed))) == .reading(mixed))
        // Without `values`, all three are required, as before.
        #expect(error(#","temperature":21.5,"vibration":0.02"#)?.field == "pressure")
    }

    @Test func badChannelsAreRefusedNamingTheField() {
        let cases: [(String, EventError.Code, String)] = [
            (#","values":{"Flow":1}"#, .invalidValue, "values"),
            (#","values":{"":1}"#, .invalidValue, "values"),
            (#","values":{"flow":"high"}"#, .wrongType, "values"),
            (#","values":{"flow":1e999}"#, .invalidValue, "values.flow"),
            (#","values":{"flow":1,"flow":2}"#, .invalidValue, "values.flow"),
            (#","temperature":20,"values":{"temperature":21}"#, .invalidValue, "values.temperature"),
            (#","values":{}"#, .invalidValue, "values"),
            (#","values":[1,2]"#, .wrongType, "values"),
            (##","values":{"flow":1},"profile":"Pump!""##, .invalidValue, "profile"),
            (#","values":{"flow":1},"profile":7"#, .wrongType, "profile"),
            (
                #","values":{"# + (0..<65).map { "\"c\($0)\":1" }.joined(separator: ",") + "}", .invalidValue,
                "values"
            ),
            (
                #","temperature":1,"values":{"# + (0..<64).map { "\"c\($0)\":1" }.joined(separator: ",") + "}",
                .invalidValue, "values"
            ),
        ]
        for (members, code, field) in cases {
            let found = error(members)
            #expect(found?.code == code && found?.field == field, "\(members.prefix(60)): \(String(describing: found))")
        }
        #expect(error(#","values":{"# + (0..<64).map { "\"c\($0)\":1" }.joined(separator: ",") + "}") == nil)
    }
}
