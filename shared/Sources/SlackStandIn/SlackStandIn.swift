// A local stand-in for Slack's servers (there is no internet here): it speaks the parts of
// Slack's contract the notifier uses (incoming webhooks, chat.postMessage, chat.update,
// chat.postEphemeral, and signed interaction requests when someone clicks a button),
// checks payloads the way Slack does, records every request, and can be scripted to answer
// 500, 429 with Retry-After, or a permanent error, for tests and `make run`. As strict as
// Slack where Slack refuses: channels have IDs (chat.postMessage takes a name or an ID and
// answers the ID; chat.update and thread replies take only the ID), Block Kit's limits hold.
import Foundation
import Hummingbird
import Synchronization

public final class SlackStandIn: Sendable {
    public struct Configuration: Sendable {
        /// Bot token the Web API routes require (`not_authed` / `invalid_auth` otherwise); nil accepts any.
        public var token: String?
        /// Channels that exist, by name (`#alerts` or `alerts`); nil: every name exists.
        public var channels: Set<String>?
        /// Channels that exist but are archived (`is_archived`, or 410 `channel_is_archived` for webhooks).
        public var archivedChannels: Set<String> = []
        /// The channel incoming webhooks post to (a webhook is made for one channel).
        public var webhookChannel = "alerts"
        /// When set, a second message to one channel within this interval gets 429 with
        /// Retry-After, as Slack does to a sender that ignores its "one per second" pace.
        public var minimumInterval: Duration?
        /// The app's signing secret: interaction requests (button clicks) are signed with it.
        public var signingSecret: String?
        /// The app's interactivity Request URL: where button clicks are sent
        /// (the notifier's `/slack/interactions`).
        public var interactionsURL: URL?
        /// When set, every accepted request is appended here as one JSON line (`method`,
        /// `channel`, `ts`, `thread_ts`, `payload`): a file view of what Slack would show.
        public var messagesFile: String?

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
        /// `webhook`, `chat.postMessage`, `chat.update` or `chat.postEphemeral`.
        public var method: String
        /// The `channel` the request named (a name or an ID; `webhook` for webhooks).
        public var channel: String?
        /// The ID of the channel it went to, when Slack accepted it.
        public var channelID: String?
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
        /// The incident key in the message's metadata (`event_payload.incident`), when it names one.
        public var incident: String? {
            ((json?["metadata"] as? [String: Any])?["event_payload"] as? [String: Any])?["incident"] as? String
        }
    }

    /// A message as Slack keeps it: its latest body, and whether the bot may update it (a
    /// webhook's message it may not).
    struct StoredMessage {
        var updatable: Bool
        var body: [UInt8]
    }

    private struct State {
        var script: [ScriptedAnswer] = []
        var requests: [RecordedRequest] = []
        /// Every posted message as it is now, by channel ID and ts.
        var messages: [String: [String: StoredMessage]] = [:]
        /// Channel IDs by name (without `#`), made up as names are first used.
        var channelIDs: [String: String] = [:]
        var lastPost: [String: ContinuousClock.Instant] = [:]
        var nextTS = 1
    }

    /// The ID of channel `name` (`#alerts` or `alerts`): a made-up `C…` ID, fixed for the
    /// stand-in's life, as Slack's are.
    public func channelID(_ name: String) -> String {
        state.withLock { Self.id(of: name, in: &$0) }
    }

    private static func id(of name: String, in state: inout State) -> String {
        let bare = name.hasPrefix("#") ? String(name.dropFirst()) : name
        if let id = state.channelIDs[bare] { return id }
        let id = String(format: "C%08X", 0x0A1E_0000 + state.channelIDs.count + 1)
        state.channelIDs[bare] = id
        return id
    }

    public let configuration: Configuration
    private let state = Mutex(State())
    private let requestURL: Mutex<URL?>

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        requestURL = Mutex(configuration.interactionsURL)
    }

    /// Where button clicks go (the app's interactivity Request URL); settable once the app listens.
    public var interactionsURL: URL? {
        get { requestURL.withLock { $0 } }
        set { requestURL.withLock { $0 = newValue } }
    }

    /// Every request so far, in arrival order.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// The requests Slack accepted.
    public var accepted: [RecordedRequest] { requests.filter(\.accepted) }

    /// Every message as it stands now: the latest accepted post or update of each (channel,
    /// ts), in the order they were first posted; thread replies and ephemeral messages left out.
    public var latestMessages: [RecordedRequest] {
        var latest: [String: RecordedRequest] = [:]
        var order: [String] = []
        for request in accepted where request.threadTS == nil {
            guard request.method == "chat.postMessage" || request.method == "chat.update", let ts = request.ts else {
                continue
            }
            let key = (request.channelID ?? "") + "/" + ts
            if latest.updateValue(request, forKey: key) == nil { order.append(key) }
        }
        return order.map { latest[$0]! }
    }

    /// Queues answers for the next requests, in order.
    public func script(_ answers: [ScriptedAnswer]) {
        state.withLock { $0.script.append(contentsOf: answers) }
    }

    /// Deletes a message, as a person can in Slack: updates and replies to it then get
    /// `message_not_found`.
    public func deleteMessage(ts: String) {
        state.withLock { state in
            for channel in state.messages.keys { state.messages[channel]?[ts] = nil }
        }
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
        case postEphemeral

        var method: String {
            switch self {
            case .webhook: "webhook"
            case .postMessage: "chat.postMessage"
            case .update: "chat.update"
            case .postEphemeral: "chat.postEphemeral"
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
                route, payload: payload, body: body, authorization: authorization, now: now, record: &record,
                state: &state)
            record.status = answer.status
            record.retryAfter = answer.retryAfter
            state.requests.append(record)
            if record.accepted, let file = configuration.messagesFile { Self.append(record, to: file) }
            return answer
        }
    }

    private func decide(
        _ route: Route, payload: [String: Any]?, body: [UInt8], authorization: String?, now: ContinuousClock.Instant,
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
        let named = route == .webhook ? "webhook" : (payload["channel"] as? String ?? "")
        // chat.postMessage takes a name or an ID; chat.update and a reply in a thread only the
        // ID chat.postMessage answered (a name is `channel_not_found` there, as in Slack).
        let threadTS = payload["thread_ts"] as? String
        let channel: String
        if route == .webhook {
            channel = Self.id(of: configuration.webhookChannel, in: &state)
        } else if let id = resolve(
            named, acceptingNames: route != .update && threadTS == nil, state: &state)
        {
            channel = id
        } else {
            return refuse(route, "channel_not_found", record: &record)
        }
        if configuration.archivedChannels.contains(where: { $0 == named || Self.id(of: $0, in: &state) == channel }) {
            return refuse(route, route == .webhook ? "channel_is_archived" : "is_archived", record: &record)
        }
        if let problem = Self.contentProblem(payload) { return refuse(route, problem, record: &record) }
        if route == .update {
            guard let ts = payload["ts"] as? String, let stored = state.messages[channel]?[ts] else {
                return refuse(route, "message_not_found", record: &record)
            }
            guard stored.updatable else { return refuse(route, "cant_update_message", record: &record) }
            state.messages[channel]?[ts]?.body = body
            record.channelID = channel
            return Answer(status: 200, body: #"{"ok":true,"channel":"\#(channel)","ts":"\#(ts)"}"#)
        }
        if route == .postEphemeral {
            // Shown to one user only; Slack answers a `message_ts` and keeps nothing to update.
            guard let user = payload["user"] as? String, !user.isEmpty else {
                return refuse(route, "user_not_in_channel", record: &record)
            }
            record.channelID = channel
            let ts = String(format: "1700000000.%06d", state.nextTS)
            state.nextTS += 1
            return Answer(status: 200, body: #"{"ok":true,"message_ts":"\#(ts)"}"#)
        }
        if let threadTS, state.messages[channel]?[threadTS] == nil {
            return refuse(route, "message_not_found", record: &record)
        }
        if let interval = configuration.minimumInterval, let last = state.lastPost[channel], now - last < interval {
            record.error = "ratelimited"
            let seconds = max(1, Int((interval - (now - last)).components.seconds) + 1)
            return Answer(
                status: 429, body: route == .webhook ? "rate_limited" : #"{"ok":false,"error":"ratelimited"}"#,
                retryAfter: seconds)
        }
        state.lastPost[channel] = now
        let ts = String(format: "1700000000.%06d", state.nextTS)
        state.nextTS += 1
        // A webhook's message gets a ts too (Slack gives it one), but no app may update it.
        state.messages[channel, default: [:]][ts] = StoredMessage(updatable: route != .webhook, body: body)
        record.ts = ts
        record.channelID = channel
        if route == .webhook { return Answer(status: 200, body: "ok") }
        return Answer(status: 200, body: #"{"ok":true,"channel":"\#(channel)","ts":"\#(ts)"}"#)
    }

    /// The ID of the channel a request names: an ID of a channel that exists, or (when
    /// `acceptingNames`) the name of one; nil when it names none.
    private func resolve(_ named: String, acceptingNames: Bool, state: inout State) -> String? {
        guard !named.isEmpty else { return nil }
        if state.channelIDs.values.contains(named) { return named }
        guard acceptingNames else { return nil }
        if let channels = configuration.channels {
            let bare = named.hasPrefix("#") ? String(named.dropFirst()) : named
            guard channels.contains(where: { $0 == bare || $0 == "#" + bare }) else { return nil }
        }
        return Self.id(of: named, in: &state)
    }

    /// One line of the messages file.
    private static func append(_ record: RecordedRequest, to path: String) {
        var line: [String: Any] = ["method": record.method, "payload": record.json ?? [:]]
        if let channel = record.channelID ?? record.channel { line["channel"] = channel }
        if let ts = record.ts { line["ts"] = ts }
        if let threadTS = record.threadTS { line["thread_ts"] = threadTS }
        guard
            var data = try? JSONSerialization.data(
                withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        data.append(0x0A)
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: data)
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
        public static let actionsElements = 25
        public static let buttonTextCharacters = 75
        public static let actionIDCharacters = 255
        public static let buttonValueCharacters = 2000
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
        var actionIDs: Set<String> = []
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
            case "actions":
                guard let elements = block["elements"] as? [[String: Any]], !elements.isEmpty,
                    elements.count <= Limits.actionsElements
                else { return "invalid_blocks" }
                for element in elements {
                    guard element["type"] as? String == "button",
                        let text = element["text"] as? [String: Any], text["type"] as? String == "plain_text",
                        let label = text["text"] as? String, !label.isEmpty, label.count <= Limits.buttonTextCharacters
                    else { return "invalid_blocks" }
                    if let value = element["value"] {
                        guard let value = value as? String, value.count <= Limits.buttonValueCharacters else {
                            return "invalid_blocks"
                        }
                    }
                    if let actionID = element["action_id"] {
                        // Unique within the message: Slack could not tell two buttons apart.
                        guard let actionID = actionID as? String, !actionID.isEmpty,
                            actionID.count <= Limits.actionIDCharacters, actionIDs.insert(actionID).inserted
                        else { return "invalid_blocks" }
                    }
                }
            default:
                return "invalid_blocks"
            }
        }
        return nil
    }
}

extension SlackStandIn {
    /// The newest message carrying a button `actionID` whose value is `value` (or, for
    /// Alertron's buttons, whose value names the incident `value` as `"i"`), as it is now.
    func message(withButton actionID: String, value: String) -> (channelID: String, ts: String, body: [UInt8])? {
        let candidates = state.withLock { state in
            state.messages.flatMap { channel, messages in messages.map { (channel, $0.key, $0.value.body) } }
        }
        // Stand-in ts values grow with each message and have one format: newest first as text.
        for (channel, ts, body) in candidates.sorted(by: { $0.1 > $1.1 }) {
            guard let payload = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
                let blocks = payload["blocks"] as? [[String: Any]]
            else { continue }
            let buttons = blocks.filter { $0["type"] as? String == "actions" }
                .flatMap { $0["elements"] as? [[String: Any]] ?? [] }
            let pressed = buttons.contains { button in
                guard button["action_id"] as? String == actionID, let carried = button["value"] as? String else {
                    return false
                }
                if carried == value { return true }
                let object = (try? JSONSerialization.jsonObject(with: Data(carried.utf8))) as? [String: Any]
                return object?["i"] as? String == value
            }
            if pressed { return (channel, ts, body) }
        }
        return nil
    }

    /// The name a channel ID was made for.
    func channelName(of id: String) -> String? {
        state.withLock { state in state.channelIDs.first { $0.value == id }?.key }
    }
}
