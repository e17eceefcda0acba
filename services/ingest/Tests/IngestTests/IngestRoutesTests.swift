// Every answer of the ingest routes, in-process: what is accepted, and each way a request is refused.
import AlertronTesting
import Events
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import MetricsTestKit
import Testing
@testable import Ingest

@Suite(.timeLimit(.minutes(2))) struct IngestRoutesTests {
    @Test func oneObjectAnArrayAndNDJSONAreAcceptedAfterTheBrokerAcknowledges() async throws {
        let broker = try testBroker()
        let app = try makeApp(kafka: broker.kafka)
        try await app.test(.router) { client in
            try await client.post("/v1/readings", goodReading) { response in
                #expect(response.status == .accepted)
                #expect(json(response)["accepted"] as? Int == 1)
                #expect((json(response)["ids"] as? [String])?.first?.count == 36)
            }
            try await client.post(
                "/v1/readings",
                """
                [\(goodReading), {\"id\": \"mine-1\", \"device_id\": \"edge-2\", \"temperature\": 1, \
                \"pressure\": 2, \"vibration\": 3}]
                """
            ) { response in
                #expect(response.status == .accepted)
                #expect((json(response)["ids"] as? [String])?.last == "mine-1", "a client's own id is kept")
            }
            let ndjson = "\(goodReading)\n\n\(goodReading)\r\n"
            try await client.post("/v1/readings", ndjson, contentType: "application/x-ndjson") { response in
                #expect(response.status == .accepted)
                #expect(json(response)["accepted"] as? Int == 2)
            }
            // A device of another type: its own profile and named channels.
            try await client.post(
                "/v1/readings",
                #"{"device_id": "pump-7", "profile": "pump", "values": {"flow": 32.1, "current": 1.33}}"#
            ) { response in
                #expect(response.status == .accepted)
            }
            try await client.post(
                "/v1/logs", #"{"source": "db-1", "message": "checkpoint complete", "level": "INFO"}"#,
                contentType: "application/json; charset=utf-8"
            ) { response in
                #expect(response.status == .accepted)
            }
        }
        let messages = try await broker.read(Topic.readings, count: 7)
        #expect(messages.count == 7, "1 + 2 + 2 + 1 readings and 1 log line")
        let pump = messages.compactMap { message -> Reading? in
            guard case .reading(let reading) = try? EventCodec.decodeInbound(Array(message.value ?? [])) else {
                return nil
            }
            return reading.deviceID == "pump-7" ? reading : nil
        }
        #expect(pump.first?.profile == "pump" && pump.first?.channels == [.init("flow", 32.1), .init("current", 1.33)])
    }

    @Test func aBadRowRefusesTheWholeRequestAndNamesRowAndField() async throws {
        let app = makeAppWithoutKafka()
        let cases: [(body: String, row: Int?, field: String?, code: String)] = [
            (#"[\#(goodReading), {"device_id": "pump-1", "values": {"Flow": 1}}]"#, 2, "values", "invalid_value"),
            (#"[\#(goodReading), {"device_id": "pump-1", "values": {"flow": "1"}}]"#, 2, "values", "wrong_type"),
            (
                """
                [\(goodReading), {\"device_id\": \"edge-2\", \"temperature\": NaN, \"pressure\": 1, \
                \"vibration\": 1}]
                """,
                2, "temperature", "invalid_value"
            ),
            (
                """
                [\(goodReading), {\"device_id\": \"edge-2\", \"temperature\": 1e999, \"pressure\": 1, \
                \"vibration\": 1}]
                """,
                2, "temperature", "invalid_value"
            ),
            (#"{"device_id": "edge-2", "temperature": 1, "pressure": 1}"#, 1, "vibration", "missing_field"),
            (#"{"device_id": "", "temperature": 1, "pressure": 1, "vibration": 1}"#, 1, "device_id", "invalid_value"),
            (
                #"{"device_id": "edge-2", "temperature": "warm", "pressure": 1, "vibration": 1}"#, 1, "temperature",
                "wrong_type"
            ),
            (
                #"{"kind": "log", "device_id": "edge-2", "temperature": 1, "pressure": 1, "vibration": 1}"#, 1, "kind",
                "unknown_kind"
            ),
            ("[\(goodReading),", nil, nil, "malformed_json"),
            ("[]", nil, nil, "empty"),
        ]
        try await app.test(.router) { client in
            for (body, row, field, code) in cases {
                try await client.post("/v1/readings", body) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    let answer = json(response)
                    #expect(
                        answer["row"] as? Int == row && answer["field"] as? String == field
                            && answer["code"] as? String == code,
                        "\(body): \(answer)")
                    #expect((answer["error"] as? String)?.isEmpty == false)
                }
            }
            let ndjson = "\(goodReading)\n\nnot json\n"
            try await client.post("/v1/readings", ndjson, contentType: "application/x-ndjson") { response in
                #expect(response.status == .badRequest)
                #expect(json(response)["row"] as? Int == 3, "NDJSON rows are line numbers")
            }
            // Found by the fault tests' fuzzing: an unbounded level made one event larger than a
            // Kafka message, and the broker's refusal came back as a 500.
            let level = String(repeating: "L", count: LogEvent.maxLevelBytes + 1)
            try await client.post("/v1/logs", #"{"source": "db", "message": "m", "level": "\#(level)"}"#) { response in
                #expect(response.status == .badRequest)
                #expect(
                    json(response)["field"] as? String == "level" && json(response)["code"] as? String == "too_large")
            }
            // A numeric ts far outside any calendar used to crash the process.
            for ts in ["1e17", "-1e17", "1e300"] {
                try await client.post("/ingest", #"{"device_id": "a", "features": [1, 2, 3], "ts": \#(ts)}"#) {
                    response in
                    #expect(response.status == .badRequest, "ts \(ts)")
                    #expect(json(response)["field"] as? String == "ts")
                }
            }
            try await client.post("/ingest", #"{"device_id": "a", "features": [1, true, 3]}"#) { response in
                #expect(response.status == .badRequest)
                #expect(json(response)["field"] as? String == "features")
            }
            let long = String(repeating: "x", count: LogEvent.maxMessageBytes + 1)
            try await client.post("/v1/logs", #"{"source": "db", "message": "\#(long)"}"#) { response in
                #expect(response.status == .badRequest)
                #expect(
                    json(response)["field"] as? String == "message" && json(response)["code"] as? String == "too_large")
            }
        }
    }

    @Test func sizeLimitsAnswer413() async throws {
        var settings = IngestSettings()
        settings.maxBodyBytes = 2_000
        settings.maxEvents = 3
        let app = makeAppWithoutKafka(settings: settings)
        try await app.test(.router) { client in
            try await client.post(
                "/v1/readings", "[" + Array(repeating: goodReading, count: 30).joined(separator: ",") + "]"
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(json(response)["code"] as? String == "body_too_large")
            }
            try await client.post(
                "/v1/readings", "[" + Array(repeating: goodReading, count: 4).joined(separator: ",") + "]"
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(json(response)["code"] as? String == "too_many_events")
            }
            try await client.post(
                "/v1/readings", Array(repeating: goodReading, count: 4).joined(separator: "\n"),
                contentType: "application/x-ndjson"
            ) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }

    @Test func aWrongContentTypeAnswers415() async throws {
        let app = makeAppWithoutKafka()
        try await app.test(.router) { client in
            for contentType in ["application/x-www-form-urlencoded", "text/plain", nil] {
                try await client.post("/v1/readings", goodReading, contentType: contentType) { response in
                    #expect(response.status == .unsupportedMediaType, "\(contentType ?? "none")")
                    #expect((json(response)["error"] as? String)?.contains("application/x-ndjson") == true)
                }
            }
        }
    }

    @Test func aConfiguredTokenIsRequiredOnEveryIngestRouteButNotOnHealth() async throws {
        var settings = IngestSettings()
        settings.token = "s3cret"
        let metrics = TestMetrics()
        let app = makeAppWithoutKafka(settings: settings, metrics: metrics)
        try await app.test(.router) { client in
            for token in [nil, "wrong", "s3cret-and-more"] {
                try await client.post("/v1/readings", goodReading, token: token) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    #expect(!String(buffer: response.body).contains("s3cret"), "the token never appears in an answer")
                }
            }
            try await client.execute(uri: "/log/hello", method: .get) { #expect($0.status == .unauthorized) }
            try await client.post("/ingest", #"{"device_id": "a", "features": [1, 2, 3]}"#) {
                #expect($0.status == .unauthorized)
            }
            // With the right token the request gets past authorization (and then finds no broker).
            try await client.post("/v1/readings", #"{"device_id": ""}"#, token: "s3cret") {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
        // Refused before any route ran, and still counted under the route's label.
        #expect(
            metrics.total("alertron_ingest_requests_total", ("route", "/v1/readings"), ("status", "401")) == 3)
        #expect(
            metrics.total("alertron_ingest_requests_total", ("route", "/log"), ("status", "401")) == 1)
        #expect(
            metrics.total("alertron_ingest_rejects_total", ("reason", "unauthorized")) == 5)
    }

    @Test func anUnreachableBrokerAnswers503WithRetryAfterAndAcceptsNothing() async throws {
        var settings = IngestSettings()
        settings.ackTimeoutMilliseconds = 300
        let app = try makeApp(kafka: unreachableKafka, settings: settings)
        try await app.test(.router) { client in
            try await client.post("/v1/readings", goodReading) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
                #expect(json(response)["code"] as? String == "kafka_unavailable")
            }
        }
    }

    @Test func theSourceProjectsRoutesMapOntoTheSameEvents() async throws {
        let broker = try testBroker()
        let metrics = TestMetrics()
        let app = try makeApp(kafka: broker.kafka, metrics: metrics)
        try await app.test(.router) { client in
            try await client.post(
                "/ingest", #"{"device_id": "legacy-1", "features": [22.5, 1011, 0.03], "ts": 1763712000}"#
            ) {
                #expect($0.status == .accepted)
            }
            try await client.post("/ingest", #"{"device_id": "legacy-2", "features": [22.5, 1011]}"#) { response in
                #expect(response.status == .badRequest)
                #expect(json(response)["field"] as? String == "features")
            }
            try await client.execute(uri: "/log/disk%20full%20on%20%2Fvar", method: .get) {
                #expect($0.status == .accepted)
            }
            // 0 and 1 are numbers (Foundation on Linux once took them for booleans): a machine at rest.
            try await client.post("/ingest", #"{"device_id": "legacy-3", "features": [1, 1013, 0], "ts": 1}"#) {
                #expect($0.status == .accepted)
            }
        }
        let events = try await broker.read(Topic.readings, count: 3).compactMap {
            $0.value.flatMap { try? EventCodec.decodeInbound(Array($0)) }
        }
        let reading = events.compactMap { if case .reading(let reading) = $0 { reading } else { nil } }.first
        #expect(
            reading?.deviceID == "legacy-1" && reading?.value(of: "temperature") == 22.5
                && reading?.value(of: "vibration") == 0.03)
        #expect(reading?.ts == "2025-11-21T08:00:00.000Z")
        let log = events.compactMap { if case .log(let log) = $0 { log } else { nil } }.first
        #expect(log?.message == "disk full on /var" && log?.source == "http-get")
        let atRest = events.compactMap {
            if case .reading(let reading) = $0, reading.deviceID == "legacy-3" { reading } else { nil }
        }.first
        #expect(
            atRest?.value(of: "temperature") == 1 && atRest?.value(of: "vibration") == 0
                && atRest?.ts == "1970-01-01T00:00:01.000Z")

        // What the service counted, read from the factory it was given.
        #expect(
            metrics.total("alertron_ingest_requests_total", ("route", "/ingest"), ("status", "202")) == 2)
        #expect(
            metrics.total("alertron_ingest_requests_total", ("route", "/ingest"), ("status", "400")) == 1)
        #expect(
            metrics.total("alertron_ingest_rejects_total", ("reason", "invalid_value")) == 1)
        #expect(
            metrics.total("alertron_ingest_events_produced_total", ("kind", "reading")) == 2)
        #expect(metrics.total("alertron_ingest_events_produced_total", ("kind", "log")) == 1)
        #expect(
            try metrics.expectTimer("alertron_ingest_request_duration_seconds", [("route", "/ingest")]).values.count
                == 3)
    }
}
