// The ingest routes: validate a request whole, produce its events to Kafka keyed by device or
// source, and answer 202 only once the broker has acknowledged every one of them. Log shippers
// speak their own protocols on their own paths (Loki's push) or by content (OTLP JSON on
// /v1/logs), and every POST body may come gzip- or deflate-encoded.
import Events
import Foundation
import Hummingbird
import Kafka
import Logging
import Synchronization
import Telemetry

struct IngestController: Sendable {
    let producer: any BatchSending
    let metrics: IngestMetrics
    let settings: IngestSettings
    let logger: Logger

    /// The ingest routes, behind the bearer token when one is set (/healthz and /metrics are not).
    var routes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.add(
            middleware: BearerTokenMiddleware(token: settings.token, tokenSetting: "INGEST_TOKEN") {
                [metrics] request in
                metrics.rejected(APIError.unauthorized(tokenSetting: "").code)
                metrics.request(route: Self.route(of: request.uri.path), status: 401, bytes: 0, duration: nil)
            })
        routes.post("/v1/readings") { request, _ in
            await answer("/v1/readings", request) { (request: inout Request) async throws(APIError) in
                Self.mediaType(request) == "application/senml+json"
                    ? try await senML(&request) : try await submit(&request, as: .reading)
            }
        }
        routes.post("/v1/logs") { request, _ in
            await respond("/v1/logs", request) { (request: inout Request) async throws(APIError) in
                try await logs(&request)
            }
        }
        routes.post("/loki/api/v1/push") { request, _ in
            await respond("/loki/api/v1/push", request) { (request: inout Request) async throws(APIError) in
                try await lokiPush(&request)
            }
        }
        // The source project's routes, mapped onto the same events.
        routes.post("/ingest") { request, _ in
            await answer("/ingest", request) { (request: inout Request) async throws(APIError) in
                try await legacyReading(&request)
            }
        }
        routes.get("/log/:message") { request, context in
            let message = context.parameters.get("message") ?? ""
            return await answer("/log", request) { (_: inout Request) async throws(APIError) in
                try await legacyLog(message)
            }
        }
        return routes
    }

    /// The route label of a path: `/log/<message>` counts as `/log`.
    static func route(of path: String) -> String { path.hasPrefix("/log/") ? "/log" : path }

    // MARK: Routes

    private func submit(_ request: inout Request, as kind: InboundKind) async throws(APIError) -> Accepted {
        let format = try Self.format(of: request)
        let body = try await collectBody(&request)
        return try await submit(body, format: format, kind: kind)
    }

    private func submit(_ body: ByteBuffer, format: BodyFormat, kind: InboundKind) async throws(APIError) -> Accepted {
        let events = try body.withUnsafeReadableBytes { (raw) throws(APIError) in
            try Submission.events(
                in: raw, format: format, kind: kind, maxEvents: settings.maxEvents, now: Timestamp.now())
        }
        return try await produce(events)
    }

    private static func format(of request: Request) throws(APIError) -> BodyFormat {
        guard let format = BodyFormat(contentType: request.headers[.contentType]) else {
            throw APIError(
                status: 415, code: "unsupported_media_type",
                message: "Content-Type must be application/json (one event or an array) or application/x-ndjson, "
                    + "found \(request.headers[.contentType].map { "'\($0.prefix(80))'" } ?? "none")")
        }
        return format
    }

    /// `POST /v1/readings` with `Content-Type: application/senml+json` (RFC 8428): a SenML pack,
    /// its device the base name, else the query's `device_id`; `profile` from the query too.
    private func senML(_ request: inout Request) async throws(APIError) -> Accepted {
        let query = request.uri.queryParameters
        let profile = query.get("profile") ?? Reading.defaultProfile
        guard Reading.isValidName(profile.utf8) else {
            throw .badRequest(
                "invalid_value", "profile must be 1 to 64 characters of a-z, 0-9, _ and .", field: "profile")
        }
        let body = try await collectBody(&request)
        let readings = try SenML.readings(
            in: Data(buffer: body, byteTransferStrategy: .noCopy), device: query.get("device_id"), profile: profile,
            maxEvents: settings.maxEvents, now: Date().timeIntervalSince1970)
        return try await produce(readings)
    }

    /// `POST /v1/logs`: Alertron's log events (202), or an OpenTelemetry OTLP/HTTP export, in
    /// protobuf (`application/x-protobuf`) or JSON (a body with `resourceLogs`), answered as OTLP
    /// says: 200 with `partialSuccess` naming the records refused, once the broker has the others.
    private func logs(_ request: inout Request) async throws(APIError) -> Response {
        if Self.mediaType(request) == "application/x-protobuf" {
            let body = try await collectBody(&request)
            let export = try body.withUnsafeReadableBytes { (raw) throws(APIError) in
                try OTLPLogs.export(protobuf: raw, maxEvents: settings.maxEvents, now: Timestamp.now())
            }
            if !export.events.isEmpty { _ = try await produce(export.events) }
            return Response(
                status: .ok, headers: [.contentType: "application/x-protobuf"],
                body: .init(byteBuffer: ByteBuffer(bytes: OTLPLogs.protobufAnswer(export))))
        }
        let format = try Self.format(of: request)
        let body = try await collectBody(&request)
        let data = Data(buffer: body, byteTransferStrategy: .noCopy)
        guard format == .json, let root = OTLPLogs.exportRoot(data) else {
            return Self.json(202, try await submit(body, format: format, kind: .log).json)
        }
        let export = try OTLPLogs.export(root: root, maxEvents: settings.maxEvents, now: Timestamp.now())
        if !export.events.isEmpty { _ = try await produce(export.events) }
        return Self.json(200, export.answer)
    }

    /// `POST /loki/api/v1/push` with Loki's JSON body: 204 once the broker has every line, as Loki answers.
    private func lokiPush(_ request: inout Request) async throws(APIError) -> Response {
        guard Self.mediaType(request) == "application/json" else {
            throw APIError(
                status: 415, code: "unsupported_media_type",
                message: "Loki pushes are read as JSON (Content-Type: application/json); protobuf with snappy is "
                    + "not supported, found \(request.headers[.contentType].map { "'\($0.prefix(80))'" } ?? "none")")
        }
        let body = try await collectBody(&request)
        let events = try LokiPush.events(
            in: Data(buffer: body, byteTransferStrategy: .noCopy), sourceLabel: settings.lokiSourceLabel,
            maxEvents: settings.maxEvents)
        _ = try await produce(events)
        return Response(status: .noContent)
    }

    private static func mediaType(_ request: Request) -> String? {
        request.headers[.contentType]?.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// `POST /ingest {"device_id": "...", "features": [temperature, pressure, vibration], "ts": ...}`;
    /// `ts` may be RFC 3339 text or Unix seconds, or left out. The scorer reads the same shape on
    /// Kafka, through the same decoder.
    private func legacyReading(_ request: inout Request) async throws(APIError) -> Accepted {
        let body = try await collectBody(&request)
        let reading = try body.withUnsafeReadableBytes { (raw) throws(APIError) in
            do throws(EventError) {
                return try EventCodec.decodeOriginReading(raw, id: EventID.generate(), now: Timestamp.now())
            } catch {
                throw .badRequest(error.code.rawValue, "row 1: \(error.description)", row: 1, field: error.field)
            }
        }
        return try await produce([.reading(reading)])
    }

    /// `GET /log/{message}` with the message URL-encoded; the source is `http-get`.
    private func legacyLog(_ encoded: String) async throws(APIError) -> Accepted {
        let message = encoded.removingPercentEncoding ?? encoded
        guard message.utf8.count <= LogEvent.maxMessageBytes else {
            throw .badRequest(
                "too_large", "row 1: field 'message' must be at most \(LogEvent.maxMessageBytes) UTF-8 bytes", row: 1,
                field: "message")
        }
        return try await produce([
            .log(LogEvent(id: EventID.generate(), ts: Timestamp.now(), source: "http-get", message: message))
        ])
    }

    // MARK: Steps

    /// The body, inflated when it is gzip- or deflate-encoded; at most `maxBodyBytes` either way.
    private func collectBody(_ request: inout Request) async throws(APIError) -> ByteBuffer {
        let encoding = try ContentEncoding(header: request.headers[.contentEncoding])
        return try encoding.decode(try await collectRawBody(&request), limit: settings.maxBodyBytes)
    }

    private func collectRawBody(_ request: inout Request) async throws(APIError) -> ByteBuffer {
        let tooLarge = APIError(
            status: 413, code: "body_too_large", message: "the body is larger than \(settings.maxBodyBytes) bytes")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.maxBodyBytes {
            throw tooLarge
        }
        do {
            return try await request.collectBody(upTo: settings.maxBodyBytes)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch {
            throw .badRequest("body_unreadable", "the body could not be read: \(error)")
        }
    }

    /// Sends the events and waits for the broker. Nothing is answered 202 before every event
    /// is acknowledged; a failure answers 503, and sending again may duplicate events that
    /// did arrive (the scorer's consumers drop duplicates by `id`).
    private func produce(_ events: [InboundEvent]) async throws(APIError) -> Accepted {
        var batch = KafkaProducerBatch(capacity: events.count)
        var writer = EventWriter(capacity: 256)
        for event in events {
            writer.reset()
            writer.write(event)
            batch.append(topic: settings.topic, key: event.key, value: writer.bytes)
        }
        do {
            _ = try await producer.send(batch, within: .milliseconds(settings.ackTimeoutMilliseconds))
        } catch {
            metrics.producerQueue.record(producer.queuedMessages)
            let kafkaError = error as? KafkaError
            switch kafkaError?.code {
            case .messageTooLarge?:
                throw APIError(
                    status: 413, code: "too_large",
                    message: "an event is larger than a Kafka message may be; send it smaller")
            case .queueFull?:
                throw APIError(
                    status: 503, code: "queue_full", message: "ingest is at capacity; send again after Retry-After",
                    retryAfter: 1)
            case _ where kafkaError?.isRetriable ?? false, .shutDown?:
                logger.warning(
                    "events not acknowledged by the broker",
                    metadata: ["error": "\(error)", "events": "\(events.count)"])
                throw APIError(
                    status: 503, code: "kafka_unavailable",
                    message:
                        """
                        the broker did not acknowledge the events in time; nothing was accepted, send again after \
                        Retry-After
                        """,
                    retryAfter: 5)
            default:
                logger.error("events refused by Kafka", metadata: ["error": "\(error)"])
                throw APIError(
                    status: 500, code: "kafka_error",
                    message: "Kafka refused the events: \(kafkaError?.code.rawValue ?? "unknown")")
            }
        }
        metrics.producerQueue.record(producer.queuedMessages)
        let readings = events.count { if case .reading = $0 { true } else { false } }
        metrics.produced(readings: readings, logs: events.count - readings)
        return Accepted(accepted: events.count, ids: events.map(\.id))
    }

    /// Runs a route: turns the outcome into a JSON answer (202), records metrics.
    private func answer(
        _ route: String, _ request: Request,
        _ body: (inout Request) async throws(APIError) -> Accepted
    ) async -> Response {
        await respond(route, request) { (request: inout Request) async throws(APIError) in
            Self.json(202, try await body(&request).json)
        }
    }

    /// Runs a route that makes its own answer; a refusal becomes its JSON error. Records metrics.
    private func respond(
        _ route: String, _ request: Request,
        _ body: (inout Request) async throws(APIError) -> Response
    ) async -> Response {
        let start = ContinuousClock.now
        var request = request
        let response: Response
        do {
            response = try await body(&request)
        } catch {
            metrics.rejected(error.code)
            response = error.response
        }
        let bytes = request.headers[.contentLength].flatMap(Int.init) ?? 0
        metrics.request(
            route: route, status: Int(response.status.code), bytes: bytes, duration: ContinuousClock.now - start)
        return response
    }

    private static func json(_ status: Int, _ text: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(
            status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// What a 202 says: how many events were accepted and their ids, in request order.
struct Accepted: Sendable {
    var accepted: Int
    var ids: [String]

    var json: String {
        var text = "{\"accepted\":\(accepted),\"ids\":["
        for (index, id) in ids.enumerated() {
            if index > 0 { text += "," }
            text += JSONString.quoted(id)
        }
        return text + "]}"
    }
}
