// Alertmanager's webhook payload (version 4), decoded and checked. Unknown fields are
// ignored; a payload that is not one answers 400, which Alertmanager does not retry.
import Foundation

struct AlertmanagerNotification: Sendable, Codable, Equatable {
    struct Alert: Sendable, Codable, Equatable {
        var status: String
        var labels: [String: String]
        var annotations: [String: String]?
        var startsAt: String?
        /// `0001-01-01T00:00:00Z` while firing.
        var endsAt: String?
        var generatorURL: String?
        var fingerprint: String?

        var name: String { labels["alertname"] ?? "alert" }

        /// Alertmanager's fingerprint, or the sorted labels when an older sender left it out.
        var identity: String {
            fingerprint ?? labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
    }

    var version: String?
    var groupKey: String
    var status: String
    var receiver: String?
    var groupLabels: [String: String]?
    var commonLabels: [String: String]?
    var commonAnnotations: [String: String]?
    var externalURL: String?
    var alerts: [Alert]
    var truncatedAlerts: Int?

    var isResolved: Bool { status == "resolved" }

    /// The severity label all alerts share, for routing.
    var severity: String? { commonLabels?["severity"] }

    /// The alert name all alerts share, else the first one's.
    var name: String { commonLabels?["alertname"] ?? groupLabels?["alertname"] ?? alerts.first?.name ?? "alert" }

    /// Alertmanager may send one notification more than once (it is at-least-once, and HA
    /// pairs both send): the same group, status and alerts is the same notification.
    var deduplicationKey: String {
        groupKey + "\u{0}" + status + "\u{0}"
            + alerts.map { $0.identity + ":" + $0.status }.sorted().joined(separator: ",")
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// Decodes and checks a webhook body; the error says what is wrong without quoting it.
    static func decode(_ bytes: some Collection<UInt8>) throws(Invalid) -> AlertmanagerNotification {
        let notification: AlertmanagerNotification
        do {
            notification = try JSONDecoder().decode(AlertmanagerNotification.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Invalid(description: Self.explain(error))
        } catch {
            throw Invalid(description: "the body is not JSON")
        }
        if let version = notification.version, version != "4" {
            throw Invalid(description: "webhook payload version \(version) is not supported (expected \"4\")")
        }
        guard !notification.groupKey.isEmpty else { throw Invalid(description: "groupKey is empty") }
        guard ["firing", "resolved"].contains(notification.status) else {
            throw Invalid(description: "status must be firing or resolved")
        }
        guard !notification.alerts.isEmpty else { throw Invalid(description: "alerts is empty") }
        for (index, alert) in notification.alerts.enumerated() where !["firing", "resolved"].contains(alert.status) {
            throw Invalid(description: "alerts[\(index)].status must be firing or resolved")
        }
        return notification
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: [
                "."
            ])
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field \(path(context, key))"
        case .typeMismatch(let type, let context):
            return "field \(path(context)) is not a \(type == String.self ? "string" : "\(type)")"
        case .valueNotFound(_, let context): return "field \(path(context)) is null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not JSON" : "field \(path(context)) is invalid"
        @unknown default: return "the body is not an Alertmanager webhook payload"
        }
    }
}
