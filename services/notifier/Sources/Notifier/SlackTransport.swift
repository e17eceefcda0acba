// The three ways a message leaves the notifier: Slack's Web API with a bot token, an incoming
// webhook, or the local sink (the embedded default). Each answers with an outcome the
// delivery loop acts on; none ever puts the URL or token in an error, a log or a metric.
import Events
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

enum SlackMethod: String, Sendable, CaseIterable {
    case webhook
    case postMessage = "chat.postMessage"
    case update = "chat.update"
    case postEphemeral = "chat.postEphemeral"
}

/// What Slack made of one request.
enum SlackOutcome: Sendable, Equatable {
    /// Posted or updated. With the Web API, `ts` and the channel's ID (never its name) are what
    /// a later chat.update or thread reply must name; the sink answers its own ts and the channel
    /// as named; a webhook neither.
    case accepted(ts: String?, channel: String?)
    /// 429: wait this long, then send again.
    case rateLimited(retryAfter: Duration)
    /// 5xx, a network error, or a Web API error Slack documents as temporary: retry with backoff.
    case transient(reason: String)
    /// Slack will never take this message as it is (`channel_not_found`, `invalid_auth` ...).
    case permanent(error: String)
}

protocol SlackTransport: Sendable {
    /// Whether messages get a `ts`, so they can be updated and replied to in a thread.
    var supportsThreads: Bool { get }
    func send(_ message: SlackMessage, as method: SlackMethod) async -> SlackOutcome
}

/// Slack's Web API errors that mean "try again later"; every other error is permanent.
private let temporaryWebAPIErrors: Set = [
    "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
    "team_added_to_org",
]

/// A Slack error code as a metric label or log value: Slack's codes are short snake_case words;
/// anything else (an HTML error page, a proxy's text) becomes a generic code, never quoted.
func slackErrorCode(_ text: String, status: Int) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    let isCode =
        !trimmed.isEmpty && trimmed.count <= 64
        && trimmed.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    return isCode ? trimmed : "http_\(status)"
}

/// Seconds from a Retry-After header (Slack sends whole seconds); 1 s when absent or odd,
/// at most 15 minutes so a garbled header cannot park a channel for hours.
func retryAfter(_ header: String?) -> Duration {
    guard let header, let seconds = Int(header.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
        return .seconds(1)
    }
    return .seconds(min(max(seconds, 1), 900))
}

/// The notifier's outbound HTTP (Slack, Alertmanager's API): one session, a request timeout,
/// errors reduced to their kind.
struct OutboundHTTP: Sendable {
    let session: URLSession

    init(timeout: TimeInterval = 10) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration)
    }

    /// POSTs JSON; returns the status, body and Retry-After, or a transient outcome for a
    /// network failure (described by its code only: URLError descriptions contain the URL).
    func post(
        _ url: URL, body: [UInt8], bearer: String?
    ) async -> Result<(status: Int, body: Data, retryAfter: String?), SlackOutcomeError> {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                return .failure(SlackOutcomeError(outcome: .transient(reason: "not_http")))
            }
            return .success((http.statusCode, data, http.value(forHTTPHeaderField: "Retry-After")))
        } catch let error as URLError {
            return .failure(SlackOutcomeError(outcome: .transient(reason: "network_\(error.code.rawValue)")))
        } catch {
            return .failure(SlackOutcomeError(outcome: .transient(reason: "network")))
        }
    }
}

struct SlackOutcomeError: Error {
    var outcome: SlackOutcome
}

/// Bot mode: chat.postMessage and chat.update with `Authorization: Bearer <token>`.
struct SlackWebAPI: SlackTransport {
    let token: String
    let baseURL: URL
    let http: OutboundHTTP

    var supportsThreads: Bool { true }

    func send(_ message: SlackMessage, as method: SlackMethod) async -> SlackOutcome {
        let url = baseURL.appendingPathComponent(
            method == .webhook ? SlackMethod.postMessage.rawValue : method.rawValue)
        switch await http.post(url, body: message.json(), bearer: token) {
        case .failure(let error):
            return error.outcome
        case .success(let answer):
            if answer.status == 429 { return .rateLimited(retryAfter: retryAfter(answer.retryAfter)) }
            if answer.status >= 500 { return .transient(reason: "http_\(answer.status)") }
            guard let object = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any],
                let ok = object["ok"] as? Bool
            else {
                // 2xx/4xx without Slack's JSON: a proxy or a wrong SLACK_API_URL. Retrying cannot fix a 4xx.
                return answer.status < 300
                    ? .transient(reason: "invalid_response") : .permanent(error: "http_\(answer.status)")
            }
            if ok { return .accepted(ts: object["ts"] as? String, channel: object["channel"] as? String) }
            let code = slackErrorCode(object["error"] as? String ?? "", status: answer.status)
            if code == "ratelimited" { return .rateLimited(retryAfter: retryAfter(answer.retryAfter)) }
            return temporaryWebAPIErrors.contains(code) ? .transient(reason: code) : .permanent(error: code)
        }
    }
}

/// Webhook mode: the message goes to the channel the webhook was created for.
struct SlackIncomingWebhook: SlackTransport {
    let url: URL
    let http: OutboundHTTP

    var supportsThreads: Bool { false }

    func send(_ message: SlackMessage, as method: SlackMethod) async -> SlackOutcome {
        switch await http.post(url, body: message.json(includeChannel: false), bearer: nil) {
        case .failure(let error):
            return error.outcome
        case .success(let answer):
            if answer.status == 429 { return .rateLimited(retryAfter: retryAfter(answer.retryAfter)) }
            if answer.status >= 500 { return .transient(reason: "http_\(answer.status)") }
            if (200..<300).contains(answer.status) { return .accepted(ts: nil, channel: nil) }
            // Webhooks answer errors as text: 400 invalid_payload, 403 action_prohibited,
            // 404 no_service / channel_not_found, 410 channel_is_archived.
            return .permanent(
                error: slackErrorCode(String(decoding: answer.body, as: UTF8.self), status: answer.status))
        }
    }
}

/// The embedded default: with no Slack configured, each message goes to the log and, as the
/// JSON Slack would get, to a JSONL file. It hands out `ts` values so threads work here too.
final class SlackLocalSink: SlackTransport, @unchecked Sendable {
    private let path: String
    private let logger: Logger
    private let lock = NSLock()
    private var handle: FileHandle?
    private var sequence = 0

    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw SlackSinkError(description: "cannot open the Slack sink file \(path) for writing")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    var supportsThreads: Bool { true }

    func send(_ message: SlackMessage, as method: SlackMethod) async -> SlackOutcome {
        let ts: String = lock.withLock {
            sequence += 1
            return message.ts ?? String(format: "%.0f.%06d", Date().timeIntervalSince1970, sequence)
        }
        let payload = String(decoding: message.json(), as: UTF8.self)
        let line =
            #"{"method":"\#(method.rawValue)","channel":\#(JSONString.quoted(message.channel)),"#
            + #""ts":"\#(ts)","payload":\#(payload)}"# + "\n"
        do {
            try lock.withLock { try handle?.write(contentsOf: Data(line.utf8)) }
        } catch {
            return .transient(reason: "sink_write_failed")
        }
        logger.info(
            "slack message (local sink; set SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN to send it to Slack)",
            metadata: [
                "method": "\(method.rawValue)", "channel": "\(message.channel)", "ts": "\(ts)",
                "text": "\(message.text)",
            ])
        return .accepted(ts: ts, channel: message.channel)
    }
}

struct SlackSinkError: Error, CustomStringConvertible {
    var description: String
}
