// A local stand-in for Slack's servers (there is no internet here): it speaks the parts of
// Slack's contract the notifier uses (incoming webhooks, chat.postMessage, chat.update),
// checks payloads the way Slack does, records every request, and can be scripted to answer
// 500, 429 with Retry-After, or a permanent error, for tests and `make run`.
import Foundation
import Hummingbird
import Synchronization

public final class SlackStandIn: Sendable {
    public struct Configuration: Sendable {
        /// Bot token the Web API routes require (`not_authed` / `invalid_auth` otherwise); nil accepts any.
        public var token: String?
        /// Channels that exist; nil: every channel exists.
        public var channels: Set<String>?
        /// Channels that exist but are archived (`is_archived`, or 410 `channel_is_archived` for webhooks).
        public var archivedChannels: Set<String> = []
        /// When set, a second message to one channel within this interval gets 429 with
        /// Retry-After, as Slack does to a sender that ignores its "one per second" pace.
        public var minimumInterval: Duration?

        public init(token: String? = nil, channels: Set<String>? = nil, minimumInterval: Duration? = nil) {
            self.token = token
            self.channels = channels
            self.minimumInterval = minimumInterval
        }
    }

    /// One scripted answer, used by the next Slack request instead of the normal one.
    public struct ScriptedAnswer: Sendable, Codable, Equatable {
        /// HTTP status (500, 503, 429 ...); 200 with `error` set means a Web API error.
        public var status: Int
        /// A Slack error code (`channel_not_found`, `invalid_auth` ...).
        public var error: String?
        /// Seconds for the Retry-After header (429).
        public var retryAfter: Int?
        /// How many requests get this answer (default 1).
        public var times: Int?

        public init(status: Int = 200, error: String? = nil, retryAfter: Int? = nil, times: Int? = nil) {
            self.status = status
            self.error = error
            self.retryAfter = retryAfter
            self.times = times
        }

        enum CodingKeys: String, CodingKey {
            case status, error, times
            case retryAfter = "retry_after"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decodeIfPresent(Int.self, forKey: .status) ?? 200
            error = try container.decodeIfPresent(String.self, forKey: .error)
            retryAfter = try container.decodeIfPresent(Int.self, forKey: .retryAfter)
            times = try container.decodeIfPresent(Int.self, forKey: .times)
        }
    }

    /// A request as received, with the answer it got.
    public struct RecordedRequest: Sendable {
        /// `webhook`, `chat.postMessage` or `chat.update`.
        public var method: String
        public var channel: String?
        /// The message's `ts`: assigned by chat.postMessage, or the one chat.update changed.
        public var ts: String?
        public var threadTS: String?
        public var body: [UInt8]
        public var status: Int
        /// nil when Slack would have accepted the message.
        public var error: String?
        public var retryAfter: Int?
        public var receivedAt: Date

        /// True when Slack accepted the message (posted or updated).
        public var accepted: Bool { status == 200 && error == nil }

        /// The body as a JSON object (nil when it is not one).
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }

        /// The top-level `text` fallback.
        public var text: String? { json?["text"] as? String }
        /// The alert count in the message's metadata (`event_payload.alerts`, as Alertron's
        /// notifier writes it); 0 when absent.
        public var alerts: Int {
            ((json?["metadata"] as? [String: Any])?["event_payload"] as? [String: Any])?["alerts"] as? Int ?? 0
        }
    }

    private struct State {
        var script: [ScriptedAnswer] = []
        var requests: [RecordedRequest] = []
        /// ts of every posted message, by channel.
        var messages: [String: Set<String>] = [:]
        var lastPost: [String: ContinuousClock.Instant] = [:]
        var nextTS = 1
    }

    public let configuration: Configuration
    private let state = Mutex(State())

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Every request so far, in arrival order.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// The requests Slack accepted.
    public var accepted: [RecordedRequest] { requests.filter(\.accepted) }

    /// Queues answers for the next requests, in order.
    public func script(_ answers: [ScriptedAnswer]) {
        state.withLock { $0.script.append(contentsOf: answers) }
    }

    /// Forgets requests, messages and the script.
    public func reset() {
        state.withLock { $0 = State() }
    }

    // MARK: Handling one request

    struct Answer {
        var status: Int
        var body: String
        var retryAfter: Int?
    }

    enum Route {
        case webhook
        case postMessage
        case update

        var method: String {
            switch self {
            case .webhook: "webhook"
            case .postMessage: "chat.postMessage"
            case .update: "chat.update"
            }
        }
    }

    func handle(_ route: Route, body: [UInt8], authorization: String?) -> Answer {
        let now = ContinuousClock.now
        let payload = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        let channel = payload?["channel"] as? String
        return state.withLock { state in
            var record = RecordedRequest(
                method: route.method, channel: route == .webhook ? "webhook" : channel,
                ts: payload?["ts"] as? String, threadTS: payload?["thread_ts"] as? String,
                body: body, status: 200, receivedAt: Date())
            let answer = decide(
                route, payload: payload, authorization: authorization, now: now, record: &record, state: &state)
            record.status = answer.status
            record.retryAfter = answer.retryAfter
            state.requests.append(record)
            return answer
        }
    }

    private func decide(
        _ route: Route, payload: [String: Any]?, authorization: String?, now: ContinuousClock.Instant,
        record: inout RecordedRequest, state: inout State
    ) -> Answer {
        if !state.script.isEmpty {
            var answer = state.script[0]
            if let times = answer.times, times > 1 {
                state.script[0].times = times - 1
            } else {
                state.script.removeFirst()
            }
            answer.times = nil
            if answer.status == 429 {
                record.error = "ratelimited"
                return Answer(
                    status: 429, body: route == .webhook ? "rate_limited" : #"{"ok":false,"error":"ratelimited"}"#,
                    retryAfter: answer.retryAfter ?? 1)
            }
            if answer.status >= 500 {
                record.error = answer.error ?? "internal_error"
                return Answer(
                    status: answer.status,
                    body: route == .webhook ? "internal_error" : "<html>Internal Server Error</html>")
            }
            if let error = answer.error { return refuse(route, error, record: &record) }
        }
        if route != .webhook, let expected = configuration.token {
            guard let authorization, authorization.hasPrefix("Bearer ") else {
                return refuse(route, "not_authed", record: &record)
            }
            guard authorization == "Bearer \(expected)" else { return refuse(route, "invalid_auth", record: &record) }
        }
        guard let payload else {
            return refuse(route, route == .webhook ? "invalid_payload" : "invalid_json", record: &record)
        }
        let channel = route == .webhook ? "webhook" : (payload["channel"] as? String ?? "")
        if route != .webhook {
            guard !channel.isEmpty, configuration.channels?.contains(channel) ?? true else {
                return refuse(route, "channel_not_found", record: &record)
            }
        }
        if configuration.archivedChannels.contains(channel) {
            return refuse(route, route == .webhook ? "channel_is_archived" : "is_archived", record: &record)
        }
        if let problem = Self.contentProblem(payload) { return refuse(route, problem, record: &record) }
        if route == .update {
            guard let ts = payload["ts"] as? String, state.messages[channel]?.contains(ts) == true else {
                return refuse(route, "message_not_found", record: &record)
            }
            return Answer(status: 200, body: #"{"ok":true,"channel":"\#(channel)","ts":"\#(ts)"}"#)
        }
        if let interval = configuration.minimumInterval, let last = state.lastPost[channel], now - last < interval {
            record.error = "ratelimited"
            let seconds = max(1, Int((interval - (now - last)).components.seconds) + 1)
            return Answer(
                status: 429, body: route == .webhook ? "rate_limited" : #"{"ok":false,"error":"ratelimited"}"#,
                retryAfter: seconds)
        }
        state.lastPost[channel] = now
        if route == .webhook { return Answer(status: 200, body: "ok") }
        let ts = String(format: "1700000000.%06d", state.nextTS)
        state.nextTS += 1
        state.messages[channel, default: []].insert(ts)
        record.ts = ts
        return Answer(status: 200, body: #"{"ok":true,"channel":"\#(channel)","ts":"\#(ts)"}"#)
    }

    /// Slack's error answer: the Web API says 200 with `ok: false`; webhooks use HTTP statuses.
    private func refuse(_ route: Route, _ error: String, record: inout RecordedRequest) -> Answer {
        record.error = error
        guard route == .webhook else { return Answer(status: 200, body: #"{"ok":false,"error":"\#(error)"}"#) }
        let status =
            switch error {
            case "no_service", "channel_not_found", "user_not_found": 404
            case "channel_is_archived": 410
            case "action_prohibited", "invalid_token", "posting_to_general_channel_denied": 403
            default: 400
            }
        return Answer(status: status, body: error)
    }

    // MARK: Slack's limits on a message

    /// Slack's published limits (Block Kit reference and chat.postMessage).
    public enum Limits {
        public static let blocks = 50
        public static let headerCharacters = 150
        public static let sectionCharacters = 3000
        public static let fields = 10
        public static let fieldCharacters = 2000
        public static let contextElements = 10
        public static let textCharacters = 40000
    }

    /// Why Slack would refuse this message's content (`no_text`, `invalid_blocks`,
    /// `msg_too_long`), or nil when it would accept it.
    static func contentProblem(_ payload: [String: Any]) -> String? {
        let text = payload["text"] as? String
        let blocks = payload["blocks"] as? [[String: Any]]
        if (text ?? "").isEmpty && (blocks ?? []).isEmpty { return "no_text" }
        if let text, text.count > Limits.textCharacters { return "msg_too_long" }
        guard let blocks else { return payload["blocks"] == nil ? nil : "invalid_blocks" }
        guard blocks.count <= Limits.blocks else { return "invalid_blocks" }
        for block in blocks {
            switch block["type"] as? String {
            case "header":
                guard let text = (block["text"] as? [String: Any]), text["type"] as? String == "plain_text",
                    let value = text["text"] as? String, !value.isEmpty, value.count <= Limits.headerCharacters
                else { return "invalid_blocks" }
            case "section":
                let text = (block["text"] as? [String: Any])?["text"] as? String
                let fields = block["fields"] as? [[String: Any]]
                if text == nil && fields == nil { return "invalid_blocks" }
                if let text, text.isEmpty || text.count > Limits.sectionCharacters { return "invalid_blocks" }
                if let fields {
                    guard fields.count <= Limits.fields else { return "invalid_blocks" }
                    for field in fields {
                        guard let value = field["text"] as? String, !value.isEmpty,
                            value.count <= Limits.fieldCharacters
                        else { return "invalid_blocks" }
                    }
                }
            case "context":
                guard let elements = block["elements"] as? [[String: Any]], !elements.isEmpty,
                    elements.count <= Limits.contextElements
                else { return "invalid_blocks" }
            case "divider":
                continue
            default:
                return "invalid_blocks"
            }
        }
        return nil
    }
}
