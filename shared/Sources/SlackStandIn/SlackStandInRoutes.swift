// The stand-in's HTTP surface: Slack's routes (incoming webhooks under /services/, the Web
// API under /api/) and a control API under /_standin/ to script answers and read requests.
import Foundation
import Hummingbird
import Logging
import NIOCore

extension SlackStandIn {
    /// Largest request body read; Slack's own limit is far above any message it accepts.
    static let maxBodyBytes = 1 << 20

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.post("/services/**") { request, context in
            try await self.answer(.webhook, request, context)
        }
        router.post("/api/chat.postMessage") { request, context in
            try await self.answer(.postMessage, request, context)
        }
        router.post("/api/chat.update") { request, context in
            try await self.answer(.update, request, context)
        }
        router.post("/api/chat.postEphemeral") { request, context in
            try await self.answer(.postEphemeral, request, context)
        }
        router.post("/_standin/click") { request, context -> Response in
            let body = try await request.body.collect(upTo: Self.maxBodyBytes)
            guard let click = try? JSONDecoder().decode(ClickRequest.self, from: Data(buffer: body)),
                let signing = Signing(rawValue: click.signing ?? "valid")
            else {
                throw HTTPError(
                    .badRequest,
                    message:
                        #"expected {"action":"ack","value":"<incident>","user":"U123","signing":"valid"} "#
                        + "(signing: \(Signing.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            do {
                let answer = try await self.click(
                    action: click.action, value: click.value, userID: click.user ?? Self.defaultUser.id,
                    signing: signing)
                let data = try JSONSerialization.data(
                    withJSONObject: ["status": answer.status, "body": answer.body], options: [.sortedKeys])
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
            } catch let error as ClickError {
                throw HTTPError(.notFound, message: error.description)
            }
        }
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok"))) }
        router.post("/_standin/script") { request, context -> Response in
            let body = try await request.body.collect(upTo: Self.maxBodyBytes)
            guard let answers = try? JSONDecoder().decode([ScriptedAnswer].self, from: Data(buffer: body)) else {
                throw HTTPError(
                    .badRequest,
                    message:
                        #"expected a JSON array like [{"status":500},{"status":429,"retry_after":2},"#
                        + #"{"error":"channel_not_found","times":3}]"#
                )
            }
            self.script(answers)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
        router.get("/_standin/requests") { _, _ -> Response in
            let listing: [[String: Any]] = self.requests.map { recorded in
                var entry: [String: Any] = [
                    "method": recorded.method, "status": recorded.status,
                    "received_at": ISO8601DateFormatter().string(from: recorded.receivedAt),
                    // Milliseconds since 1970, for latency measurements.
                    "received_ms": (recorded.receivedAt.timeIntervalSince1970 * 1000).rounded(),
                    "body": recorded.json ?? String(decoding: recorded.body, as: UTF8.self),
                ]
                if let channel = recorded.channel { entry["channel"] = channel }
                if let channelID = recorded.channelID { entry["channel_id"] = channelID }
                if let ts = recorded.ts { entry["ts"] = ts }
                if let threadTS = recorded.threadTS { entry["thread_ts"] = threadTS }
                if let error = recorded.error { entry["error"] = error }
                if let retryAfter = recorded.retryAfter { entry["retry_after"] = retryAfter }
                return entry
            }
            let data = try JSONSerialization.data(withJSONObject: ["requests": listing], options: [.sortedKeys])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.delete("/_standin/requests") { _, _ -> Response in
            self.reset()
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
    }

    /// The body of `POST /_standin/click`.
    private struct ClickRequest: Decodable {
        var action: String
        var value: String
        var user: String?
        var signing: String?
    }

    private func answer<Context: RequestContext>(
        _ route: Route, _ request: Request, _ context: Context
    ) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        let answer = handle(route, body: Array(buffer: body), authorization: request.headers[.authorization])
        var headers: HTTPFields = [.contentType: route == .webhook ? "text/html" : "application/json; charset=utf-8"]
        if let retryAfter = answer.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: .init(code: answer.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    /// Serves the stand-in on `host:port` (0 picks a free port) while `body` runs; `body`
    /// gets the base URL (`http://host:port`: webhooks at base/services/..., the API at base/api).
    /// The default logger is quiet: tests cancel the server, which Hummingbird logs as an error.
    public func withServer<Result: Sendable>(
        host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = {
            var logger = Logger(label: "slack-standin"); logger.logLevel = .critical; return logger
        }(),
        _ body: @Sendable (String) async throws -> Result
    ) async throws -> Result {
        let (started, continuation) = AsyncStream.makeStream(of: Int.self)
        let router = Router()
        register(on: router)
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "slack-standin"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = started.makeAsyncIterator()
            guard let boundPort = await iterator.next() else { throw CancellationError() }
            defer { group.cancelAll() }
            return try await body("http://\(host):\(boundPort)")
        }
    }
}
