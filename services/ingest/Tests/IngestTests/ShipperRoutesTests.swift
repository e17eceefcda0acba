// What log shippers send, through the routes: Loki's JSON push, OTLP/HTTP logs in JSON, and
// bodies compressed with gzip (made by the real `gzip` program) or deflate, a gzip bomb among them.
import AlertronTesting
import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import Telemetry
import Testing
@testable import Ingest

/// `data` compressed by Debian's `gzip` program (not by the code under test).
func gzipped(_ data: Data) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c"]
    let input = Pipe()
    let output = Pipe()
    (process.standardInput, process.standardOutput) = (input, output)
    try process.run()
    let writer = Thread {
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let compressed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return compressed
}

extension TestClientProtocol {
    func post<R>(
        _ uri: String, bytes: Data, headers: HTTPFields, _ check: @escaping @Sendable (TestResponse) async throws -> R
    ) async throws -> R {
        try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(data: bytes), testCallback: check)
    }
}

/// A Loki push as Fluent Bit, Vector or Alloy's JSON writers send it: two streams.
let lokiPush = """
    {"streams": [
      {"stream": {"job": "db-1", "level": "error", "env": "prod"},
       "values": [["1733600000000000000", "could not fsync file base/16384/2619: Input/output error"],
                  ["1733600001500000000", "checkpoint complete: wrote 12 buffers", {"trace_id": "abc"}]]},
      {"stream": {"service_name": "api"}, "values": [["1733600002000000000", "GET /health 200"]]}
    ]}
    """

/// An OTLP/HTTP JSON export as the OpenTelemetry SDKs write it (int64 as strings).
func otlpExport(bodies: [String]) -> String {
    let records = bodies.enumerated().map { index, body in
        """
        {"timeUnixNano": "\(1_733_600_000_000_000_000 + Int64(index) * 1_000_000)", "severityNumber": \(index == 0 ? 17 : 9),
         "severityText": "\(index == 0 ? "" : "Information")", "body": {"stringValue": \(JSONString.quoted(body))},
         "attributes": [{"key": "http.method", "value": {"stringValue": "GET"}}]}
        """
    }
    return """
        {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}},
          {"key": "host.name", "value": {"stringValue": "node-7"}}]},
          "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [\(records.joined(separator: ","))]}]}]}
        """
}

@Suite(.timeLimit(.minutes(2))) struct ShipperRoutesTests {
    private func logs(_ messages: [KafkaConsumerMessage]) -> [LogEvent] {
        messages.compactMap {
            guard case .log(let log) = try? EventCodec.decodeInbound(Array($0.value ?? [])) else { return nil }
            return log
        }
    }

    @Test func aLokiPushBecomesLogLinesWithTheirSourceLevelAndTime() async throws {
        let broker = try testBroker()
        let app = try makeApp(kafka: broker.kafka)
        try await app.test(.router) { client in
            try await client.post("/loki/api/v1/push", lokiPush) { response in
                #expect(response.status == .noContent, "\(String(buffer: response.body))")
            }
            // No source label: refused whole, naming the stream.
            try await client.post(
                "/loki/api/v1/push", #"{"streams": [{"stream": {"env": "x"}, "values": [["1", "a"]]}]}"#
            ) { response in
                #expect(response.status == .badRequest)
                #expect(
                    String(buffer: response.body).contains(
                        "streams[0].stream has neither label 'job' nor 'service_name'"))
            }
            try await client.post(
                "/loki/api/v1/push", #"{"streams": [{"stream": {"job": "x"}, "values": [[1, "a"]]}]}"#
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("streams[0].values[0] must be"))
            }
            try await client.post("/loki/api/v1/push", lokiPush, contentType: "application/x-protobuf") { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(String(buffer: response.body).contains("protobuf with snappy is not supported"))
            }
        }
        // Lines of one source keep their order (one partition); sources may interleave.
        let lines = logs(try await broker.read(Topic.readings, count: 3))
        let db = lines.filter { $0.source == "db-1" }
        #expect(db.count == 2 && lines.filter { $0.source == "api" }.count == 1)
        #expect(db.map(\.level) == ["error", "error"] && lines.first { $0.source == "api" }?.level == nil)
        #expect(db[0].message.hasSuffix("Input/output error") && db[0].ts == "2024-12-07T19:33:20.000Z")
        #expect(db[1].message.hasPrefix("checkpoint complete") && db[1].ts == "2024-12-07T19:33:21.500Z")
    }

    @Test func anOTLPJSONExportIsAnsweredAsOTLPSaysWithRefusedRecordsNamed() async throws {
        let broker = try testBroker()
        let app = try makeApp(kafka: broker.kafka)
        try await app.test(.router) { client in
            try await client.post("/v1/logs", otlpExport(bodies: ["payment failed: card processor down", "GET /"])) {
                response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "{}")
            }
            // One record too long: the others are taken, the answer names how many were not and why.
            let long = String(repeating: "x", count: LogEvent.maxMessageBytes + 1)
            try await client.post("/v1/logs", otlpExport(bodies: ["disk full on /var", long])) { response in
                #expect(response.status == .ok)
                let partial = json(response)["partialSuccess"] as? [String: Any]
                #expect(partial?["rejectedLogRecords"] as? String == "1")
                #expect((partial?["errorMessage"] as? String)?.contains("logRecords[1].body is longer than") == true)
            }
            // JSON said to be protobuf: refused with the reason.
            try await client.post("/v1/logs", otlpExport(bodies: ["x"]), contentType: "application/x-protobuf") {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("not an OTLP ExportLogsServiceRequest"))
            }
            // Alertron's own log events still work on the same route.
            try await client.post("/v1/logs", #"{"source": "db-1", "message": "resourceLogs are fine here"}"#) {
                response in
                #expect(response.status == .accepted)
            }
        }
        let lines = logs(try await broker.read(Topic.readings, count: 4))
        let checkout = lines.filter { $0.source == "checkout" }
        #expect(lines.count == 4 && checkout.count == 3)
        #expect(checkout.map(\.message) == ["payment failed: card processor down", "GET /", "disk full on /var"])
        #expect(
            checkout[0].level == "ERROR" && checkout[1].level == "Information", "severityText, else its number's name")
        #expect(checkout[0].ts == "2024-12-07T19:33:20.000Z" && checkout[1].ts == "2024-12-07T19:33:20.001Z")
    }

    @Test func gzipBodiesAreInflatedAndTheLimitHoldsForTheInflatedSize() async throws {
        let broker = try testBroker()
        var settings = IngestSettings()
        settings.maxBodyBytes = 1 << 20
        let app = try makeApp(kafka: broker.kafka, settings: settings)
        let ndjson = Data((0..<50).map { _ in goodReading }.joined(separator: "\n").utf8)
        let compressed = try gzipped(ndjson)
        // Two gzip members back to back (as `cat a.gz b.gz` makes) are one body.
        let twoMembers = try gzipped(Data(lokiPush.prefix(40).utf8)) + gzipped(Data(lokiPush.dropFirst(40).utf8))
        // 64 MiB of zeros: about 64 KiB on the wire.
        let bomb = try gzipped(Data(count: 64 << 20))
        try #require(bomb.count < 200_000)
        try await app.test(.router) { client in
            try await client.post(
                "/v1/readings", bytes: compressed,
                headers: [.contentType: "application/x-ndjson", .contentEncoding: "gzip"]
            ) { response in
                #expect(response.status == .accepted, "\(String(buffer: response.body))")
                #expect(json(response)["accepted"] as? Int == 50)
            }
            try await client.post(
                "/loki/api/v1/push", bytes: twoMembers,
                headers: [.contentType: "application/json", .contentEncoding: "gzip"]
            ) { response in
                #expect(response.status == .noContent, "\(String(buffer: response.body))")
            }
            try await client.post(
                "/v1/readings", bytes: bomb, headers: [.contentType: "application/json", .contentEncoding: "gzip"]
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("inflates to more than 1048576 bytes"))
            }
            try await client.post(
                "/v1/readings", bytes: compressed.dropLast(20),
                headers: [.contentType: "application/x-ndjson", .contentEncoding: "gzip"]
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("truncated"), "\(String(buffer: response.body))")
            }
            try await client.post(
                "/v1/readings", bytes: ndjson,
                headers: [.contentType: "application/x-ndjson", .contentEncoding: "gzip"]
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("not valid gzip data"))
            }
            try await client.post(
                "/v1/readings", bytes: compressed,
                headers: [.contentType: "application/x-ndjson", .contentEncoding: "br"]
            ) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(String(buffer: response.body).contains("send gzip, deflate or none"))
            }
        }
        let messages = try await broker.read(Topic.readings, count: 53)
        #expect(messages.count == 53, "50 readings and the push's 3 lines; nothing of the refused requests")
    }

    /// An `ExportLogsServiceRequest` written field by field: one resource (service.name "api")
    /// with a scope holding two records, the second with a body that is not UTF-8.
    static func protobufExport() -> [UInt8] {
        func varint(_ value: Int) -> [UInt8] {
            var value = UInt64(value)
            var bytes: [UInt8] = []
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            return bytes + [UInt8(value)]
        }
        func field(_ number: Int, _ bytes: [UInt8]) -> [UInt8] {
            [UInt8(number << 3 | 2)] + varint(bytes.count) + bytes
        }
        func string(_ number: Int, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }
        let time = withUnsafeBytes(of: UInt64(1_733_600_000_000_000_000).littleEndian, Array.init)
        let record =
            [0x09] + time + [0x10, 17] + string(3, "ERROR") + field(5, string(1, "disk full on /var"))
            + [0x58] + varint(1)  // an unknown varint field (11 is fixed64 in the spec, so this one is skipped)
        let broken = field(5, field(1, [0xFF, 0xFE]))
        let resource = field(1, field(1, string(1, "service.name") + field(2, string(1, "api"))))
        let scope = field(2, field(2, record) + field(2, broken))
        return field(1, scope + resource)
    }

    @Test func anOTLPProtobufExportIsReadFieldByFieldAndABrokenRecordIsRefusedAlone() throws {
        let export = try Self.protobufExport().withUnsafeBytes { raw in
            try OTLPLogs.export(protobuf: raw, maxEvents: 10, now: "2026-12-07T00:00:00.000Z")
        }
        #expect(export.events.count == 1 && export.rejected == 1)
        guard case .log(let log) = export.events.first else { Issue.record("no log event"); return }
        #expect(log.source == "api" && log.message == "disk full on /var" && log.level == "ERROR")
        #expect(log.ts == "2024-12-07T19:33:20.000Z")
        #expect(export.firstRejection == "resourceLogs[0].scopeLogs[0].logRecords[1]: a string that is not UTF-8")
        // The answer: partial_success { rejected_log_records: 1, error_message: ... }.
        let answer = OTLPLogs.protobufAnswer(export)
        #expect(Array(answer.prefix(4)) == [0x0A, UInt8(answer.count - 2), 0x08, 0x01] && answer[4] == 0x12)
        #expect(OTLPLogs.protobufAnswer(OTLPLogs.Export(maxEvents: 1, now: "")).isEmpty)
        // Cut anywhere, the body is refused with a reason or read as far as it goes; never a crash.
        let whole = Self.protobufExport()
        for cut in 0..<whole.count {
            do {
                _ = try Array(whole.prefix(cut)).withUnsafeBytes { raw in
                    try OTLPLogs.export(protobuf: raw, maxEvents: 10, now: "2026-12-07T00:00:00.000Z")
                }
            } catch let error as APIError {
                #expect(error.code == "malformed_protobuf" && error.status == 400)
            }
        }
        for bad: [UInt8] in [
            [0x0B], [0x0A, 0x80], [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x00], Array(repeating: 0xFF, count: 12),
        ] {
            #expect(throws: APIError.self) {
                _ = try bad.withUnsafeBytes { raw in try OTLPLogs.export(protobuf: raw, maxEvents: 10, now: "") }
            }
        }
    }

    @Test func decodersRefuseWhatIsNotTheirShapeWithAReason() throws {
        for body in ["", "[]", #"{"streams": 3}"#, #"{"streams": [{"stream": {"job": "a"}}]}"#, "{not json"] {
            #expect(throws: APIError.self) {
                _ = try LokiPush.events(in: Data(body.utf8), sourceLabel: "job", maxEvents: 10)
            }
        }
        #expect(throws: APIError.self) {
            _ = try LokiPush.events(
                in: Data(#"{"streams": [{"stream": {"job": "a"}, "values": [["1","a"],["2","b"]]}]}"#.utf8),
                sourceLabel: "job", maxEvents: 1)
        }
        #expect(throws: APIError.self) {
            _ = try OTLPLogs.export(in: Data(#"{"resourceLogs": {}}"#.utf8), maxEvents: 10, now: Timestamp.now())
        }
        let unnamed = try OTLPLogs.export(
            in: Data(
                #"{"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": ""}}]}, "scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}]}]}"#
                    .utf8), maxEvents: 10, now: Timestamp.now())
        guard case .log(let unnamedLog) = unnamed.events.first else { Issue.record("no log"); return }
        #expect(unnamedLog.source == "unknown_service", "an empty service.name is no source")
        let empty = try OTLPLogs.export(in: Data(#"{"resourceLogs": []}"#.utf8), maxEvents: 10, now: Timestamp.now())
        #expect(empty.events.isEmpty && empty.answer == "{}")
        #expect(OTLPLogs.exportRoot(Data(#"{"source": "a", "message": "\"resourceLogs\""}"#.utf8)) == nil)
    }
}

@Suite(.timeLimit(.minutes(2))) struct SenMLTests {
    /// RFC 8428's example of a multi-measurement pack (section 5.1.2), with this project's names.
    static let pack = """
        [{"bn": "urn:dev:ow:10e2073a01080063:", "bt": 1.733600000e+09, "bu": "Cel", "bver": 5,
          "n": "Temperature", "v": 23.1},
         {"n": "pressure", "u": "hPa", "v": 1009.5},
         {"n": "vibration-rms", "u": "g", "v": 0.021},
         {"n": "door", "vb": true},
         {"n": "Temperature", "t": 60, "v": 23.4}]
        """

    @Test func aPackBecomesOneReadingPerTimeWithItsNamedChannels() throws {
        let events = try SenML.readings(in: Data(Self.pack.utf8), device: nil, maxEvents: 10, now: 1_800_000_000)
        let readings = events.compactMap { event -> Reading? in if case .reading(let r) = event { r } else { nil } }
        #expect(readings.count == 2)
        #expect(readings.allSatisfy { $0.deviceID == "urn:dev:ow:10e2073a01080063" && $0.profile == "default" })
        #expect(readings[0].ts == "2024-12-07T19:33:20.000Z" && readings[1].ts == "2024-12-07T19:34:20.000Z")
        #expect(
            readings[0].channels == [
                .init("temperature", 23.1), .init("pressure", 1009.5), .init("vibration_rms", 0.021),
            ])
        #expect(readings[1].channels == [.init("temperature", 23.4)], "the boolean record is skipped")
        // Without a base name the given device is used; a relative time (< 2^28 s) counts from now.
        let relative = try SenML.readings(
            in: Data(#"[{"n": "flow", "v": 3, "t": -5}, {"n": "bv", "bv": 10, "v": 1}]"#.utf8), device: "pump-7",
            profile: "pump", maxEvents: 10, now: 1_800_000_000)
        guard case .reading(let pump) = relative.first else { Issue.record("no reading"); return }
        #expect(pump.deviceID == "pump-7" && pump.profile == "pump" && pump.ts == "2027-01-15T07:59:55.000Z")
        guard case .reading(let based) = relative.last else { Issue.record("no reading"); return }
        #expect(based.channels == [.init("bv", 11)], "bv is added to v")
    }

    @Test func whatIsNotASenMLPackIsRefusedWithAReason() {
        func reason(_ body: String, device: String? = nil) -> String? {
            do {
                _ = try SenML.readings(in: Data(body.utf8), device: device, maxEvents: 2, now: 1_800_000_000)
                return nil
            } catch { return error.message }
        }
        #expect(reason(#"{"n": "x", "v": 1}"#)?.contains("JSON array of records") == true)
        #expect(reason(#"[{"n": "x", "v": 1}]"#)?.contains("no base name (bn) and none was given") == true)
        #expect(reason(#"[{"bn": "d", "n": "x", "v": true}]"#)?.contains("v must be a finite number") == true)
        #expect(reason(#"[{"bn": "d", "n": "x", "v": "1"}]"#)?.contains("v must be a finite number") == true)
        #expect(reason(#"[{"bn": "d", "n": "x", "vs": "on"}]"#)?.contains("no numeric value") == true)
        #expect(reason(#"[{"bn": "d", "n": "x", "v": 1}, {"n": "x", "v": 2}]"#)?.contains("'x' twice") == true)
        #expect(reason(#"[{"bn": "d", "n": "x", "v": 1, "bt": 1e15}]"#)?.contains("year 1970 to 9999") == true)
        #expect(reason(#"[{"bn": "d", "v": 1, "n": 5}]"#)?.contains("n must be a string") == true)
        #expect(
            reason(#"[{"bn": "d", "n": "a", "v": 1, "t": 1}, {"n": "a", "v": 1, "t": 2}, {"n": "a", "v": 1, "t": 3}]"#)
                == "at most 2 readings per request")
        #expect(reason(#"[{"bn": "d:", "n": "x", "v": 1}]"#) == nil, "d: is device d")
        #expect(reason(#"[{"bn": "d", "bv": 1e308, "n": "x", "v": 1e308}]"#)?.contains("not a finite number") == true)
    }

    @Test func aSenMLPackIsAcceptedOnTheReadingsRoute() async throws {
        let broker = try testBroker()
        let app = try makeApp(kafka: broker.kafka)
        try await app.test(.router) { client in
            try await client.post("/v1/readings", Self.pack, contentType: "application/senml+json") { response in
                #expect(response.status == .accepted, "\(String(buffer: response.body))")
                #expect(json(response)["accepted"] as? Int == 2)
            }
            try await client.post(
                "/v1/readings?device_id=pump-7&profile=pump", #"[{"n": "flow", "v": 3}]"#,
                contentType: "application/senml+json"
            ) { response in
                #expect(response.status == .accepted)
            }
            try await client.post(
                "/v1/readings?profile=Bad!", #"[{"n": "flow", "v": 3}]"#, contentType: "application/senml+json"
            ) {
                response in
                #expect(response.status == .badRequest)
            }
        }
        let readings = try await broker.read(Topic.readings, count: 3).compactMap { message -> Reading? in
            guard case .reading(let reading) = try? EventCodec.decodeInbound(Array(message.value ?? [])) else {
                return nil
            }
            return reading
        }
        #expect(readings.count == 3)
        #expect(readings.first { $0.deviceID == "pump-7" }?.channels == [.init("flow", 3)])
        #expect(readings.first { $0.deviceID == "pump-7" }?.profile == "pump")
    }
}
