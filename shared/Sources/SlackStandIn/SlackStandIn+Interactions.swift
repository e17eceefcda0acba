// Button clicks, as Slack sends them: a `block_actions` payload, form-encoded as `payload=`,
// POSTed to the app's interactivity Request URL and signed with its signing secret. The
// stand-in builds the payload from a message it really holds, so a click can only press a
// button the notifier really sent; tests can also send it unsigned, forged or stale.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SlackSignature

extension SlackStandIn {
    /// How a click is signed.
    public enum Signing: String, Sendable, CaseIterable {
        /// As Slack signs: now, with the app's signing secret.
        case valid
        /// No signature headers at all.
        case unsigned
        /// Signed with another secret.
        case forged
        /// Signed correctly, ten minutes ago (a replayed request).
        case stale
    }

    public struct ClickError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Who clicks when a test or `make run` does not say.
    public static let defaultUser = (id: "U0A1ALERT", name: "standin.user")

    /// Presses the button `action` whose value is `value` on the newest message that has it,
    /// as user `userID`: sends the interaction request to the configured Request URL and returns
    /// the app's HTTP status and body.
    public func click(
        action: String, value: String, userID: String = defaultUser.id, userName: String = defaultUser.name,
        signing: Signing = .valid
    ) async throws -> (status: Int, body: String) {
        guard let url = interactionsURL else {
            throw ClickError(description: "no interactivity Request URL is configured (--interactions-url)")
        }
        guard let found = message(withButton: action, value: value) else {
            throw ClickError(description: "no message has a button '\(action)' with value '\(value)'")
        }
        let body = try interactionBody(
            action: action, value: value, channelID: found.channelID, ts: found.ts, message: found.body,
            userID: userID, userName: userName)
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let now = Int64(Date().timeIntervalSince1970)
        switch signing {
        case .unsigned:
            break
        case .valid, .stale, .forged:
            guard let secret = configuration.signingSecret else {
                throw ClickError(description: "no signing secret is configured (--signing-secret)")
            }
            let timestamp = signing == .stale ? now - 600 : now
            let key = signing == .forged ? secret + "-forged" : secret
            request.setValue(String(timestamp), forHTTPHeaderField: SlackSignature.timestampHeader)
            request.setValue(
                SlackSignature.sign(body: body, timestamp: timestamp, secret: key),
                forHTTPHeaderField: SlackSignature.signatureHeader)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The form-encoded `payload=` of a `block_actions` interaction, with the fields Slack sends.
    func interactionBody(
        action: String, value: String, channelID: String, ts: String, message: [UInt8], userID: String,
        userName: String
    ) throws -> [UInt8] {
        var posted = (try? JSONSerialization.jsonObject(with: Data(message))) as? [String: Any] ?? [:]
        posted["ts"] = ts
        posted["type"] = "message"
        let buttons = (posted["blocks"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "actions" }
        let button = buttons.flatMap { $0["elements"] as? [[String: Any]] ?? [] }
            .first { $0["action_id"] as? String == action }
        let actionTS = String(format: "%.6f", Date().timeIntervalSince1970)
        let payload: [String: Any] = [
            "type": "block_actions",
            "user": ["id": userID, "username": userName, "name": userName, "team_id": "T0ALERTRON"],
            "api_app_id": "A0ALERTRON",
            "team": ["id": "T0ALERTRON", "domain": "alertron"],
            "container": ["type": "message", "message_ts": ts, "channel_id": channelID, "is_ephemeral": false],
            "channel": ["id": channelID, "name": channelName(of: channelID) ?? channelID],
            "message": posted,
            "trigger_id": "\(actionTS).trigger",
            "response_url": "\(interactionsURL?.absoluteString ?? "")#response",
            "actions": [
                [
                    "type": "button", "action_id": action, "block_id": button?["block_id"] as? String ?? "actions",
                    "value": button?["value"] as? String ?? value,
                    "text": button?["text"] ?? ["type": "plain_text", "text": action],
                    "action_ts": actionTS,
                ]
            ],
        ]
        let json = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        return Array("payload=".utf8) + Array(Self.formEncoded(String(decoding: json, as: UTF8.self)).utf8)
    }

    /// application/x-www-form-urlencoded: unreserved characters stay, the rest are %XX.
    static func formEncoded(_ text: String) -> String {
        let unreserved = CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._*")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
