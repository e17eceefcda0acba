// Silences an Alertmanager group through Alertmanager's API v2 (`POST /api/v2/silences`):
// equality matchers from the group's labels, `createdBy` the Slack user, a comment with the
// message's link. Alertmanager then stops notifying the group itself.
import Foundation

struct AlertmanagerSilencer: Sendable {
    let baseURL: URL
    let http: OutboundHTTP

    enum Failure: Error, CustomStringConvertible {
        /// Alertmanager refused the silence as it is (4xx): retrying cannot help.
        case refused(status: Int, message: String)
        /// Unreachable or failing (5xx): try again.
        case unavailable(String)

        var description: String {
            switch self {
            case .refused(let status, let message): "Alertmanager refused the silence (\(status)): \(message)"
            case .unavailable(let why): "Alertmanager is unavailable (\(why))"
            }
        }

        var isPermanent: Bool {
            if case .refused = self { true } else { false }
        }
    }

    /// The matchers of a group: its group labels (what Alertmanager grouped it by), or every
    /// label its alerts share when it was grouped by nothing.
    static func matchers(for notification: AlertmanagerNotification) -> [[String: Any]] {
        let labels =
            (notification.groupLabels?.isEmpty == false ? notification.groupLabels : notification.commonLabels) ?? [:]
        return labels.sorted { $0.key < $1.key }.map {
            ["name": $0.key, "value": $0.value, "isRegex": false, "isEqual": true]
        }
    }

    /// Creates the silence; returns Alertmanager's silence id.
    func silence(
        _ notification: AlertmanagerNotification, until: String, createdBy: String, comment: String
    ) async throws(Failure) -> String {
        let matchers = Self.matchers(for: notification)
        guard !matchers.isEmpty else { throw .refused(status: 0, message: "the group has no labels to match") }
        let body: [String: Any] = [
            "matchers": matchers, "startsAt": ISO8601DateFormatter().string(from: Date()), "endsAt": until,
            "createdBy": createdBy, "comment": comment,
        ]
        let answer: (status: Int, body: Data, retryAfter: String?)
        switch await http.post(
            baseURL.appendingPathComponent("api/v2/silences"),
            body: Array((try? JSONSerialization.data(withJSONObject: body)) ?? Data()), bearer: nil)
        {
        case .success(let received): answer = received
        case .failure(let error):
            if case .transient(let reason) = error.outcome { throw .unavailable(reason) }
            throw .unavailable("network error")
        }
        let (status, data) = (answer.status, answer.body)
        let text = String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard (200..<300).contains(status) else {
            throw status >= 500 || status == 0
                ? .unavailable("HTTP \(status)") : .refused(status: status, message: text)
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let id = object["silenceID"] as? String
        else { throw .unavailable("an answer without silenceID") }
        return id
    }
}
