// Silences an Alertmanager group through Alertmanager's API v2 (`POST /api/v2/silences`):
// equality matchers from the group's labels, `createdBy` the Slack user, a comment with the
// message's link. Alertmanager then stops notifying the group itself.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct AlertmanagerSilencer: Sendable {
    let baseURL: URL
    let session: URLSession

    init(baseURL: URL, timeout: TimeInterval = 10) {
        self.baseURL = baseURL
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: configuration)
    }

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
        var request = URLRequest(url: baseURL.appendingPathComponent("api/v2/silences"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try? JSONSerialization.data(withJSONObject: body)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError {
            throw .unavailable("network error \(error.code.rawValue)")
        } catch {
            throw .unavailable("network error")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
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
