// POST /slack/interactions: Slack calls it when someone clicks a button on an incident. Every
// request is verified with the app's signing secret (v0 HMAC-SHA256 of the timestamp and the
// raw body, at most five minutes old); unsigned, forged or replayed requests get 401 and change
// nothing. A click becomes a `feedback` event, keyed as the incident's alerts are, and is
// answered 200 as soon as the broker has it (Slack wants an answer within 3 s): the replica
// that owns the incident reads it from there and does the work, at least once, in order.
// Without a signing secret the route does not exist (404): never open.
import Events
import Foundation
import Hummingbird
import Kafka
import Logging
import SlackSignature
import Telemetry

/// What a button carries back: the incident and enough about it to address the verdict, so
/// any replica can take the click without knowing the incident.
struct ButtonValue: Sendable, Equatable, Codable {
    enum Action: String, Sendable, CaseIterable {
        case acknowledge = "ack"
        case silenceHour = "silence_1h"
        case silenceDay = "silence_1d"
        case notAnomaly = "not_anomaly"
        case resolve

        var verdict: Feedback.Verdict {
            switch self {
            case .acknowledge: .acknowledged
            case .silenceHour, .silenceDay: .silenced
            case .notAnomaly: .notAnomaly
            case .resolve: .resolved
            }
        }

        var silence: Duration? {
            switch self {
            case .silenceHour: .seconds(3600)
            case .silenceDay: .seconds(86_400)
            default: nil
            }
        }
    }

    /// The incident key.
    var i: String
    /// `device`, `log` or `alertmanager`.
    var k: String
    /// Device id, log source or Alertmanager group key.
    var s: String
    /// The device's episode.
    var e: String?
    /// The first and the worst reading's ids.
    var r: [String]
    /// A log incident's templates.
    var t: [String]?

    init(_ incident: Incident) {
        i = incident.key
        k = incident.kind.rawValue
        s = incident.feedbackSubject.key
        e = incident.episode
        r = Array(Set([incident.readings.first, incident.worst?.id].compactMap { $0 })).sorted()
        t = incident.kind == .log ? incident.templates : nil
    }

    var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    var subject: Feedback.Subject? {
        switch k {
        case "device": .device(s)
        case "log": .logSource(s)
        case "alertmanager": .alertmanagerGroup(s)
        default: nil
        }
    }
}

struct SlackInteractions: Sendable {
    let producer: any BatchSending
    let secret: String
    let feedbackTopic: String
    let metrics: NotifierMetrics
    let logger: Logger
    /// Slack's payloads carry the whole message: far below this.
    static let maxBodyBytes = 1 << 20

    func register(on router: Router<BasicRequestContext>) {
        router.post("/slack/interactions") { request, _ -> Response in
            let response = await handle(request)
            metrics.interactions(status: Int(response.status.code)).increment()
            return response
        }
    }

    private func handle(_ request: Request) async -> Response {
        guard let buffer = try? await request.body.collect(upTo: Self.maxBodyBytes) else {
            return APIError(status: 413, code: "body_too_large", message: "the body is larger than 1 MiB").response
        }
        let body = Array(buffer: buffer)
        do throws(SlackSignature.Refusal) {
            try SlackSignature.verify(
                body: body, timestamp: request.headers[.init(SlackSignature.timestampHeader)!],
                signature: request.headers[.init(SlackSignature.signatureHeader)!], secret: secret,
                now: Int64(Date().timeIntervalSince1970))
        } catch {
            metrics.interactionsRefused(reason: error.rawValue).increment()
            logger.warning("slack interaction refused", metadata: ["reason": "\(error.rawValue)"])
            let why =
                switch error {
                case .unsigned: "the request is not signed (X-Slack-Signature, X-Slack-Request-Timestamp)"
                case .stale: "the request's timestamp is more than 5 minutes off"
                case .forged: "the signature does not match the body"
                }
            return APIError(status: 401, code: "invalid_signature", message: why).response
        }
        let feedback: Feedback
        switch Self.feedback(from: body) {
        case .success(let decoded): feedback = decoded
        case .failure(let problem): return APIError.badRequest("invalid_payload", problem.description).response
        }
        var batch = KafkaProducerBatch(capacity: 1)
        batch.append(topic: feedbackTopic, key: feedback.subject.key, value: EventWriter.encode(feedback))
        do {
            _ = try await producer.send(batch, within: .milliseconds(2500))
        } catch {
            logger.warning(
                "slack interaction not stored; Slack shows the user an error", metadata: ["error": "\(error)"])
            return APIError(status: 503, code: "kafka_unavailable", message: "the click could not be stored").response
        }
        logger.info(
            "slack interaction",
            metadata: ["verdict": "\(feedback.verdict.rawValue)", "incident": "\(feedback.incident)"])
        // Slack takes an empty 200 as "received"; the message changes once the work is done.
        return Response(status: .ok)
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The verdict a `block_actions` payload (form-encoded `payload=`) clicked.
    static func feedback(from body: [UInt8], now: Date = Date()) -> Result<Feedback, Problem> {
        let form = String(decoding: body, as: UTF8.self)
        guard
            let field = form.split(separator: "&").first(where: { $0.hasPrefix("payload=") }),
            let json = String(field.dropFirst("payload=".count)).replacingOccurrences(of: "+", with: " ")
                .removingPercentEncoding,
            let payload = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        else { return .failure(Problem(description: "expected a form field payload= holding JSON")) }
        guard payload["type"] as? String == "block_actions" else {
            return .failure(Problem(description: "only block_actions interactions are handled"))
        }
        guard let action = (payload["actions"] as? [[String: Any]])?.first,
            let actionID = action["action_id"] as? String, let kind = ButtonValue.Action(rawValue: actionID)
        else {
            let known = ButtonValue.Action.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(Problem(description: "actions[0].action_id must be one of \(known)"))
        }
        guard let value = action["value"] as? String,
            let button = try? JSONDecoder().decode(ButtonValue.self, from: Data(value.utf8)),
            let subject = button.subject
        else { return .failure(Problem(description: "actions[0].value is not an Alertron incident")) }
        guard let user = (payload["user"] as? [String: Any])?["id"] as? String, !user.isEmpty else {
            return .failure(Problem(description: "user.id is missing"))
        }
        let ts = Timestamp.format(millisecondsSinceEpoch: Int64(now.timeIntervalSince1970 * 1000))
        let until = kind.silence.map {
            Timestamp.format(millisecondsSinceEpoch: Int64((now.timeIntervalSince1970 + $0.seconds) * 1000))
        }
        // One id per incident, verdict and click second: Kafka's redelivery repeats it, a second click a minute later does not.
        let feedback = Feedback(
            id: "\(button.i)/\(kind.verdict.rawValue)/\(Int(now.timeIntervalSince1970))", ts: ts,
            verdict: kind.verdict, subject: subject, episodeID: button.e, readings: button.r, user: user,
            incident: button.i, until: until, templates: button.t ?? [])
        return .success(feedback)
    }
}
