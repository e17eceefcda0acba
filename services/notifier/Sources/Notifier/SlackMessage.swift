// A Slack message in Block Kit with its plain-text fallback, kept within Slack's limits:
// anything longer is cut with a visible marker, so Slack never refuses it for its size.
import Foundation

struct SlackMessage: Sendable, Equatable {
    enum Block: Sendable, Equatable {
        case header(String)
        /// mrkdwn text and/or up to 10 mrkdwn fields.
        case section(text: String?, fields: [String])
        /// Small mrkdwn lines at the bottom.
        case context([String])
        case divider
        /// Buttons (bot mode, with the interactions route on).
        case actions([Button])
    }

    /// A button: Slack sends its `actionID` and `value` back when someone clicks it.
    struct Button: Sendable, Equatable {
        var actionID: String
        var text: String
        var value: String
        /// `primary`, `danger` or nil.
        var style: String?
    }

    /// Where it goes (bot mode and the sink); an incoming webhook ignores it.
    var channel: String
    /// The notification text: what phones and screen readers show, and all a client without
    /// Block Kit sees.
    var text: String
    var blocks: [Block]
    /// Reply in the thread of this message.
    var threadTS: String?
    /// For chat.update: the message to replace.
    var ts: String?
    /// For chat.postEphemeral: the one user who sees it.
    var user: String?
    /// Machine-readable summary, sent as Slack's message metadata.
    var metadata: Metadata?

    /// What a message covers, so people and tools can count alerts without parsing text.
    struct Metadata: Sendable, Equatable {
        /// `anomalies` or `alertmanager`.
        var source: String
        /// Alerts (anomalous events, or Alertmanager alerts) the message covers.
        var alerts: Int
        /// Devices, log sources or alert names it names.
        var subjects: [String]
        var status: String?
        /// For anomalies: how many of `alerts` are readings and how many log lines.
        var readings: Int?
        var logs: Int?
        /// The incident the message shows, and its state (`open`, `resolved`).
        var incident: String?
        var state: String?

        var json: [String: Any] {
            var payload: [String: Any] = ["source": source, "alerts": alerts, "subjects": subjects]
            if let incident { payload["incident"] = incident }
            if let state { payload["state"] = state }
            if let status { payload["status"] = status }
            if let readings { payload["readings"] = readings }
            if let logs { payload["logs"] = logs }
            return payload
        }
    }

    /// Slack's published limits (Block Kit reference; chat.postMessage truncates `text` at 40k,
    /// but anything past a few thousand characters is unreadable anyway).
    enum Limits {
        static let blocks = 50
        static let headerCharacters = 150
        static let sectionCharacters = 3000
        static let fields = 10
        static let fieldCharacters = 2000
        static let contextElements = 10
        static let textCharacters = 4000
        static let buttons = 25
        static let buttonTextCharacters = 75
        static let buttonValueCharacters = 2000
    }

    static let truncationMarker = "… [truncated]"

    /// `text` cut to at most `limit` Unicode scalars (Slack counts characters; a scalar count
    /// is never smaller), ending with the marker when anything was cut.
    static func truncate(_ text: String, to limit: Int) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        let marker = truncationMarker.unicodeScalars
        var kept = String.UnicodeScalarView(scalars.prefix(max(0, limit - marker.count)))
        kept.append(contentsOf: marker)
        return String(kept)
    }

    /// The message with every part within Slack's limits; nothing else changes.
    func clamped() -> SlackMessage {
        var message = self
        message.text = Self.truncate(text.isEmpty ? " " : text, to: Limits.textCharacters)
        var blocks: [Block] = []
        for block in self.blocks {
            switch block {
            case .header(let text):
                blocks.append(.header(Self.truncate(text.isEmpty ? " " : text, to: Limits.headerCharacters)))
            case .section(let text, let fields):
                var kept = fields.map { Self.truncate($0.isEmpty ? " " : $0, to: Limits.fieldCharacters) }
                if kept.count > Limits.fields {
                    let extra = kept.count - (Limits.fields - 1)
                    kept = Array(kept.prefix(Limits.fields - 1)) + ["… and \(extra) more"]
                }
                let body = text.map { Self.truncate($0.isEmpty ? " " : $0, to: Limits.sectionCharacters) }
                if body == nil && kept.isEmpty { continue }
                blocks.append(.section(text: body, fields: kept))
            case .context(let elements):
                var kept = elements.map { Self.truncate($0.isEmpty ? " " : $0, to: Limits.sectionCharacters) }
                if kept.count > Limits.contextElements { kept = Array(kept.prefix(Limits.contextElements)) }
                if !kept.isEmpty { blocks.append(.context(kept)) }
            case .divider:
                blocks.append(.divider)
            case .actions(let buttons):
                // A value too long to send back whole is a broken button: it is left out.
                let kept = buttons.filter { $0.value.unicodeScalars.count <= Limits.buttonValueCharacters }
                    .prefix(Limits.buttons).map { button in
                        var button = button
                        button.text = Self.truncate(button.text, to: Limits.buttonTextCharacters)
                        return button
                    }
                if !kept.isEmpty { blocks.append(.actions(Array(kept))) }
            }
        }
        if blocks.count > Limits.blocks {
            let dropped = blocks.count - (Limits.blocks - 1)
            blocks =
                Array(blocks.prefix(Limits.blocks - 1)) + [
                    .context(["… \(dropped) more blocks not shown \(Self.truncationMarker)"])
                ]
        }
        message.blocks = blocks
        return message
    }

    /// The JSON body of chat.postMessage / chat.update / an incoming webhook.
    func json(includeChannel: Bool = true) -> [UInt8] {
        var object: [String: Any] = ["text": text, "blocks": blocks.map(\.json), "unfurl_links": false]
        if includeChannel { object["channel"] = channel }
        if let threadTS { object["thread_ts"] = threadTS }
        if let ts { object["ts"] = ts }
        if let user { object["user"] = user }
        if let metadata {
            object["metadata"] = ["event_type": "alertron_alert", "event_payload": metadata.json]
        }
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return Array(data)
    }
}

extension SlackMessage.Block {
    var json: [String: Any] {
        switch self {
        case .header(let text):
            return ["type": "header", "text": ["type": "plain_text", "text": text, "emoji": true]]
        case .section(let text, let fields):
            var block: [String: Any] = ["type": "section"]
            if let text { block["text"] = ["type": "mrkdwn", "text": text] }
            if !fields.isEmpty { block["fields"] = fields.map { ["type": "mrkdwn", "text": $0] } }
            return block
        case .context(let elements):
            return ["type": "context", "elements": elements.map { ["type": "mrkdwn", "text": $0] }]
        case .divider:
            return ["type": "divider"]
        case .actions(let buttons):
            return [
                "type": "actions", "block_id": "incident",
                "elements": buttons.map { button in
                    var element: [String: Any] = [
                        "type": "button", "action_id": button.actionID, "value": button.value,
                        "text": ["type": "plain_text", "text": button.text, "emoji": true],
                    ]
                    if let style = button.style { element["style"] = style }
                    return element
                },
            ]
        }
    }
}

/// Slack's mrkdwn treats &, < and > as markup; text from events is escaped before it goes in.
func mrkdwnEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
        of: ">", with: "&gt;")
}
