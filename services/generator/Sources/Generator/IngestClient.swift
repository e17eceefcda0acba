// The HTTP target: batches posted to ingest as NDJSON. A 503 (Kafka unavailable behind
// ingest), 429 or connection failure is retried after Retry-After or a backoff, never
// dropped; a 413 splits the batch; a 400, 401 or 415 stops the run, since resending the
// same request cannot succeed.
import Foundation
import Kafka
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

struct IngestClient: EventSink {
    let baseURL: URL
    /// Sent as `Authorization: Bearer <token>`; never logged.
    let token: String?
    let logger: Logger
    private let session: URLSession

    /// Longest wait a Retry-After may ask for; a longer one is cut to this.
    static let maxRetryAfter = Duration.seconds(60)

    init(baseURL: URL, token: String?, connections: Int, logger: Logger) {
        self.baseURL = baseURL
        self.token = token
        self.logger = logger
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = max(1, connections)
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    var name: String { "ingest \(baseURL.absoluteString)" }
    var format: BatchEncoder.Format { .ndjson }

    func deliver(_ batch: OutgoingBatch, context: DeliveryContext) async throws -> DeliveryOutcome {
        if !batch.readings.isEmpty, try await post(batch.readings, to: "/v1/readings", context: context) == .abandoned {
            return .abandoned
        }
        if !batch.logs.isEmpty, try await post(batch.logs, to: "/v1/logs", context: context) == .abandoned {
            return .abandoned
        }
        return .delivered
    }

    /// What ingest answered to one request.
    struct Answer: Sendable {
        var status: Int
        var retryAfter: String?
        var body: Data
    }

    /// What to do with an answer from ingest.
    enum Verdict: Equatable {
        case accepted
        /// Send the same request again after this long (nil: the client's own backoff).
        case retry(after: Duration?)
        /// The request was too large: send each half on its own.
        case split
        case reject
    }

    static func verdict(status: Int, retryAfter: String?, now: Date = Date()) -> Verdict {
        switch status {
        case 200...299: .accepted
        case 413: .split
        case 408, 429, 500, 502, 503, 504: .retry(after: retryAfter.flatMap { parseRetryAfter($0, now: now) })
        default: .reject
        }
    }

    /// Retry-After as seconds (`2`, `1.5`) or an HTTP date, within 0...maxRetryAfter.
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        var seconds: Double
        if let number = Double(text), number.isFinite {
            seconds = number
        } else {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            guard let date = formatter.date(from: text) else { return nil }
            seconds = date.timeIntervalSince(now)
        }
        seconds = min(max(seconds, 0), Double(maxRetryAfter.components.seconds))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    private func post(_ body: NDJSONBody, to path: String, context: DeliveryContext) async throws -> DeliveryOutcome {
        var backoff = Backoff()
        while true {
            let answer: Answer
            do {
                guard let answered = try await context.unlessExpired({ try await self.send(body, to: path) }) else {
                    return .abandoned
                }
                answer = answered
            } catch {
                if context.hasExpired { return .abandoned }
                context.attemptFailed(reason: "connection")
                let wait = backoff.next()
                logger.warning(
                    "ingest unreachable; sending the batch again",
                    metadata: ["error": "\(error.localizedDescription)", "retry_in": "\(wait)", "path": "\(path)"])
                guard await context.sleep(wait) else { return .abandoned }
                continue
            }
            let (status, data) = (answer.status, answer.body)
            switch Self.verdict(status: status, retryAfter: answer.retryAfter) {
            case .accepted:
                checkAccepted(data, expected: body.lines, path: path)
                return .delivered
            case .retry(let after):
                context.attemptFailed(reason: Self.reason(status))
                // Retry-After, when ingest gave one, wins over the backoff (which then stays put).
                let wait = after ?? backoff.next()
                logger.warning(
                    "ingest cannot take the batch now; sending it again",
                    metadata: ["status": "\(status)", "retry_in": "\(wait)", "path": "\(path)"])
                guard await context.sleep(wait) else { return .abandoned }
            case .split:
                context.attemptFailed(reason: Self.reason(status))
                guard body.lines > 1 else {
                    throw GeneratorError(.ingestRejected, "ingest refused a single event as too large (413) at \(path)")
                }
                let (first, second) = body.split()
                guard try await post(first, to: path, context: context) == .delivered else { return .abandoned }
                return try await post(second, to: path, context: context)
            case .reject:
                context.attemptFailed(reason: Self.reason(status))
                throw GeneratorError(
                    .ingestRejected,
                    "ingest answered \(status) to POST \(path) with \(body.lines) events: "
                        + Self.excerpt(data))
            }
        }
    }

    private func send(_ body: NDJSONBody, to path: String) async throws -> Answer {
        var request = URLRequest(url: baseURL.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = Data(body.bytes)
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else {
            throw GeneratorError(.ingestResponse, "the answer to POST \(path) is not HTTP")
        }
        let retryAfter = http.value(forHTTPHeaderField: "Retry-After")
        return Answer(status: http.statusCode, retryAfter: retryAfter, body: data)
    }

    /// Ingest answers `{"accepted": N, ...}`; a different N means it counted otherwise than
    /// we did, which is worth a warning but not a resend (it acknowledged the request).
    private func checkAccepted(_ data: Data, expected: Int, path: String) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let accepted = object["accepted"] as? Int
        else { return }
        if accepted != expected {
            logger.warning(
                "ingest accepted a different number of events than were sent",
                metadata: ["sent": "\(expected)", "accepted": "\(accepted)", "path": "\(path)"])
        }
    }

    /// "/healthz" answers: ingest is up (its own /readyz says whether Kafka is).
    func checkHealth() async throws {
        var request = URLRequest(url: baseURL.appendingPathComponent("/healthz"))
        request.timeoutInterval = 2
        let (_, response) = try await session.data(for: request)
        guard let status = (response as? HTTPURLResponse)?.statusCode, status == 200 else {
            throw GeneratorError(.ingestResponse, "ingest /healthz did not answer 200")
        }
    }

    /// Statuses counted under a reason of their own; any other is `http_other`.
    private static let namedStatuses = [400, 401, 403, 404, 408, 413, 415, 429, 500, 502, 503, 504]

    /// Every reason a failed attempt is counted under, for the metric to start each at 0.
    static let failureReasons = ["connection", "http_other"] + namedStatuses.map { "http_\($0)" }

    /// Metric label for a status: a fixed set, so the label stays bounded.
    static func reason(_ status: Int) -> String {
        namedStatuses.contains(status) ? "http_\(status)" : "http_other"
    }

    /// The start of an error answer, for the message: ingest's own JSON error names the row
    /// and field at fault (our events, never secrets).
    private static func excerpt(_ data: Data) -> String {
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }
}
