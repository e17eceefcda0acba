// Turns incidents (a device's episode, a log burst, a fleet-wide digest, an Alertmanager group)
// into Slack messages: a headline from a small per-source template, Block Kit details, who is
// on it, buttons while it is open, thread replies for what is new; Slack's limits applied.
import Events
import Telemetry

/// The headline of each kind of message: text with `{placeholder}`s, checked at start-up.
struct MessageTemplates: Sendable, Equatable {
    static let defaultAnomalies = "{anomalies} on {subject} in {window}, worst score {worst_score} {severity}"
    static let defaultLogs = "{lines} from {subject} in {window}, worst probability {worst_score} {severity}"
    static let defaultDigest = "Fleet-wide: {anomalies} on {subjects} in {window}, worst score {worst_score} {severity}"
    static let defaultAlertmanager = "[{status}:{count}] {alertname}: {summary}"

    static let groupPlaceholders: Set = [
        "count", "anomalies", "lines", "subject", "window", "worst_score", "severity", "model",
    ]
    static let digestPlaceholders: Set = ["count", "anomalies", "subjects", "window", "worst_score", "severity"]
    static let alertmanagerPlaceholders: Set = ["status", "count", "alertname", "severity", "summary"]

    var anomalies = defaultAnomalies
    var logs = defaultLogs
    var digest = defaultDigest
    var alertmanager = defaultAlertmanager

    /// `template` if every placeholder in it is one of `allowed`.
    static func checked(_ template: String, allowed: Set<String>) throws(SettingsError) -> String {
        let unknown = placeholders(in: template).subtracting(allowed)
        guard unknown.isEmpty else {
            throw SettingsError(
                "unknown placeholder(s) \(unknown.sorted().map { "{\($0)}" }.joined(separator: ", ")); "
                    + "use \(allowed.sorted().map { "{\($0)}" }.joined(separator: ", "))")
        }
        return template
    }

    static func placeholders(in template: String) -> Set<String> {
        var names: Set<String> = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.insert(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    static func fill(_ template: String, _ values: [String: String]) -> String {
        var text = template
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }
}

struct MessageRenderer: Sendable {
    let templates: MessageTemplates

    // MARK: Incidents

    /// The incident's message as it is now: what fired, how bad, why, who is on it, and (while
    /// it is open, when Slack can call back) the buttons to answer it with.
    func message(for incident: Incident, buttons: Bool) -> SlackMessage {
        var message: SlackMessage
        switch incident.kind {
        case .device, .log: message = subjectMessage(incident)
        case .digest: message = digest(incident)
        case .alertmanager:
            message = self.message(for: incident.alertmanager!, channel: incident.channel)
            message.metadata?.alerts = incident.count
        }
        if let status = Self.status(of: incident) {
            // Before the context line, so the state reads right under what fired.
            message.blocks.insert(.section(text: status, fields: []), at: max(message.blocks.count - 1, 1))
        }
        if buttons, incident.isOpen, let actions = Self.buttons(for: incident) { message.blocks.append(actions) }
        message.metadata?.incident = incident.key
        message.metadata?.state = incident.isOpen ? "open" : "resolved"
        return message.clamped()
    }

    private func subjectMessage(_ incident: Incident) -> SlackMessage {
        let isLog = incident.kind == .log
        let severity = incident.severityLevel
        let worst = incident.worst
        let headline = MessageTemplates.fill(
            isLog ? templates.logs : templates.anomalies,
            [
                "count": String(incident.count),
                "anomalies": Self.counted(incident.count, "anomaly", "anomalies"),
                "lines": Self.counted(incident.count, "critical log line", "critical log lines"),
                "subject": incident.subject,
                "window": Self.span(from: incident.firstTS, to: incident.lastTS),
                "worst_score": Self.score(worst?.score ?? 0),
                "severity": severity.rawValue,
                "model": worst?.model ?? "",
            ])
        var fields = [
            "*\(isLog ? "Source" : "Device")*\n`\(mrkdwnEscaped(incident.subject))`",
            "*\(isLog ? "Critical lines" : "Anomalies")*\n\(incident.count)",
            "*\(isLog ? "Worst probability" : "Worst score")*\n\(Self.score(worst?.score ?? 0))",
            "*Severity*\n\(severity.rawValue)",
            "*First*\n\(incident.firstTS)",
        ]
        if incident.count > 1 { fields.append("*Last*\n\(incident.lastTS)") }
        var blocks: [SlackMessage.Block] = [
            .header("\(incident.isOpen ? Self.emoji(severity) : "✅") \(headline)"),
            .section(text: nil, fields: fields),
        ]
        if isLog {
            let label = "*\(incident.samples.count == incident.count ? "Lines" : "First lines")*\n"
            let why = worst?.why.map { "*Why*\n\(mrkdwnEscaped(String($0.prefix(600))))\n" } ?? ""
            let room = SlackMessage.Limits.sectionCharacters - why.unicodeScalars.count - label.unicodeScalars.count
            blocks.append(.section(text: why + label + Self.quoted(incident.samples, within: room), fields: []))
        } else if let worst {
            var detail = (worst.why.map { "*Why*\n\(mrkdwnEscaped($0))\n" } ?? "")
            detail += "*Worst reading* (`\(mrkdwnEscaped(worst.id))`, \(worst.ts))\n\(worst.detail)"
            if let episode = incident.episode { detail += "\nEpisode `\(mrkdwnEscaped(episode))`" }
            blocks.append(.section(text: detail, fields: []))
            if !incident.peaks.isEmpty {
                // Kept after the incident resolves: what fired is what people look back for.
                let peaks = incident.peaks.map { peak in
                    "\(mrkdwnEscaped(peak.channel)) peaked at \(Self.number(peak.value))"
                        + "\(AnomalyAlert.units[peak.channel] ?? ""), expected \(Self.number(peak.expected)) "
                        + "(\(String(format: "%.1f", peak.sigmas))σ)"
                }
                blocks.append(.section(text: "*Channels at fault*\n" + peaks.joined(separator: "\n"), fields: []))
            }
        }
        blocks.append(.context(["Model `\(mrkdwnEscaped(worst?.model ?? "?"))` · Alertron"]))
        return SlackMessage(
            channel: incident.channel, text: headline, blocks: blocks,
            metadata: .init(
                source: "anomalies", alerts: incident.count, subjects: [incident.subject],
                readings: isLog ? 0 : incident.count, logs: isLog ? incident.count : 0))
    }

    private func digest(_ incident: Incident) -> SlackMessage {
        let severity = incident.severityLevel
        let headline = MessageTemplates.fill(
            templates.digest,
            [
                "count": String(incident.count),
                "anomalies": Self.counted(incident.count, "anomaly", "anomalies"),
                "subjects": Self.counted(incident.subjects.count, "subject", "subjects"),
                "window": Self.span(from: incident.firstTS, to: incident.lastTS),
                "worst_score": Self.score(incident.worst?.score ?? 0),
                "severity": severity.rawValue,
            ])
        // The noisiest first; Slack shows at most 10 fields, the rest are summed up.
        let ranked = incident.subjects.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        var fields = ranked.prefix(9).map { subject, count in
            "*\(mrkdwnEscaped(subject))*\n\(Self.counted(count, "alert", "alerts"))"
        }
        if ranked.count > 9 {
            let rest = ranked.dropFirst(9)
            fields.append(
                "*… and \(rest.count) more*\n"
                    + Self.counted(incident.count - ranked.prefix(9).reduce(0) { $0 + $1.value }, "alert", "alerts"))
        }
        return SlackMessage(
            channel: incident.channel, text: headline,
            blocks: [
                .header("\(incident.isOpen ? Self.emoji(severity) : "✅") \(headline)"),
                .section(
                    text: "Many sources fired at once, so they are summed up in one message, kept up to date "
                        + "while the burst lasts. The noisiest:", fields: []),
                .section(text: nil, fields: fields),
                .context(["\(incident.subjects.count) subjects, \(incident.count) alerts · Alertron"]),
            ],
            metadata: .init(
                source: "anomalies", alerts: incident.count, subjects: ranked.prefix(50).map(\.key),
                readings: incident.count - incident.logs, logs: incident.logs))
    }

    /// Who is on it, or how it ended; nil for an open incident nobody answered yet.
    static func status(of incident: Incident) -> String? {
        let lines = statusLines(of: incident)
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    /// The status, a line each: acknowledged, silenced, then how it ended.
    /// Each line as a code block, all of them within `limit` characters: a line longer than its
    /// share (a 6 KB stack trace) is cut and its block closed, so the lines after it still show.
    static func quoted(_ lines: [String], within limit: Int) -> String {
        guard !lines.isEmpty else { return "" }
        let fence = "```"
        let marker = SlackMessage.truncationMarker.unicodeScalars.count
        // Each line's share, less its fences and the newlines between lines.
        let share = (limit - (lines.count - 1)) / lines.count - 2 * fence.count
        return lines.map { line in
            let plain = line.replacingOccurrences(of: fence, with: "'''")
            let text = mrkdwnEscaped(plain)
            guard text.unicodeScalars.count > share else { return fence + text + fence }
            // Cut between characters, never inside an escape such as &amp;.
            var kept = ""
            var count = 0
            for character in plain {
                let piece = mrkdwnEscaped(String(character))
                let size = piece.unicodeScalars.count
                guard count + size <= share - marker else { break }
                kept += piece
                count += size
            }
            return fence + kept + SlackMessage.truncationMarker + fence
        }.joined(separator: "\n")
    }

    static func statusLines(of incident: Incident) -> [String] {
        var lines: [String] = []
        if let mark = incident.acknowledged {
            lines.append("👀 Acknowledged by \(who(mark.by)) at \(mark.at)")
        }
        if let mark = incident.silenced, let until = incident.silencedUntil {
            let what =
                incident.kind == .alertmanager
                ? "Silenced in Alertmanager\(incident.silenceID.map { " (silence `\(mrkdwnEscaped($0))`)" } ?? "")"
                : "\(incident.kind == .log ? "Source" : "Device") `\(mrkdwnEscaped(incident.subject))` muted"
            lines.append("🔕 \(what) by \(who(mark.by)) until \(until)")
        }
        if let mark = incident.notAnomaly {
            let what =
                incident.kind == .log
                ? "these lines' templates as routine" : "this pattern as normal"
            lines.append(
                "🙅 Marked *not an anomaly* by \(who(mark.by)) at \(mark.at): the scorer now counts \(what) "
                    + "for `\(mrkdwnEscaped(incident.subject))`")
        } else if let mark = incident.resolved {
            let how =
                switch mark.by {
                case "scorer": "the device is back to its normal"
                case "alertmanager": "Alertmanager resolved it"
                case "alertron": "quiet since \(incident.lastTS)"
                default: "resolved by \(who(mark.by))"
                }
            lines.append("✅ *Resolved* after \(span(from: incident.firstTS, to: mark.at)): \(how)")
        }
        return lines
    }

    /// A Slack user id as a mention; anything else (the scorer, Alertmanager) as it is.
    static func who(_ user: String) -> String {
        user.first == "U" || user.first == "W" ? "<@\(mrkdwnEscaped(user))>" : mrkdwnEscaped(user)
    }

    static func buttons(for incident: Incident) -> SlackMessage.Block? {
        guard incident.kind != .digest else { return nil }
        let value = ButtonValue(incident).encoded
        var buttons: [SlackMessage.Button] = []
        if incident.acknowledged == nil {
            buttons.append(
                .init(
                    actionID: ButtonValue.Action.acknowledge.rawValue, text: "Acknowledge", value: value,
                    style: "primary"))
        }
        buttons.append(.init(actionID: ButtonValue.Action.silenceHour.rawValue, text: "Silence 1h", value: value))
        buttons.append(.init(actionID: ButtonValue.Action.silenceDay.rawValue, text: "Silence 1d", value: value))
        if incident.kind == .device || (incident.kind == .log && !(incident.templates ?? []).isEmpty) {
            buttons.append(
                .init(actionID: ButtonValue.Action.notAnomaly.rawValue, text: "Not an anomaly", value: value))
        }
        buttons.append(
            .init(actionID: ButtonValue.Action.resolve.rawValue, text: "Resolve", value: value, style: "danger"))
        return .actions(buttons)
    }

    /// The reply in an incident's thread.
    func reply(_ reply: IncidentBook.Reply, for incident: Incident, channel: String, threadTS: String?) -> SlackMessage
    {
        let subject = "`\(mrkdwnEscaped(incident.subject))`"
        let text: String
        switch reply {
        case .news(let growth):
            var parts: [String] = []
            if growth.severityRose { parts.append("severity rose to *\(incident.severityLevel.rawValue)*") }
            if !growth.newChannels.isEmpty {
                let what = incident.kind == .alertmanager ? "new alerts" : "new channels at fault"
                parts.append("\(what): \(growth.newChannels.map(mrkdwnEscaped).joined(separator: ", "))")
            }
            text =
                "⚠️ \(subject): " + parts.joined(separator: "; ")
                + " (\(Self.counted(incident.count, "alert", "alerts")) so far)"
        case .resolved, .quiet, .resolvedByHand, .notAnomaly:
            let peaks = incident.peaks.prefix(3).map { "\(mrkdwnEscaped($0.channel)) \(Self.number($0.value))" }
            text =
                (Self.statusLines(of: incident).last ?? "✅ Resolved")
                + " · \(Self.counted(incident.count, "alert", "alerts"))"
                + (peaks.isEmpty ? "" : ", peaks: " + peaks.joined(separator: ", "))
        case .acknowledged:
            text = "👀 \(Self.who(incident.acknowledged?.by ?? "?")) is on it; no more reminders for this incident"
        case .silenced:
            text = Self.statusLines(of: incident).first { $0.hasPrefix("🔕") } ?? "🔕 Silenced"
        case .reminder:
            text =
                "⏰ Still open and nobody acknowledged it: \(Self.counted(incident.count, "alert", "alerts")) on "
                + "\(subject) since \(incident.firstTS)"
        }
        return SlackMessage(
            channel: channel, text: text, blocks: [.section(text: text, fields: [])], threadTS: threadTS,
            metadata: .init(
                source: incident.kind == .alertmanager ? "alertmanager" : "anomalies", alerts: 0,
                subjects: [incident.subject], incident: incident.key, state: incident.isOpen ? "open" : "resolved")
        ).clamped()
    }

    static func number(_ value: Double) -> String {
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 4
        return String(format: "%.\(decimals)f", value)
    }

    /// How long from one RFC 3339 time to another, in words ("4 min 10 s").
    static func span(from start: String, to end: String) -> String {
        guard let from = Timestamp.secondsSinceEpoch(start), let to = Timestamp.secondsSinceEpoch(end) else {
            return "?"
        }
        let seconds = Int(max(0, to - from).rounded())
        if seconds < 1 { return "under a second" }
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" + (seconds % 60 == 0 ? "" : " \(seconds % 60) s") }
        return "\(seconds / 3600) h" + (seconds % 3600 / 60 == 0 ? "" : " \(seconds % 3600 / 60) min")
    }

    // MARK: Alertmanager

    /// The message of a notification: posted when firing, and what the original becomes when resolved.
    func message(for notification: AlertmanagerNotification, channel: String) -> SlackMessage {
        let summary =
            notification.commonAnnotations?["summary"] ?? notification.alerts.first?.annotations?["summary"]
            ?? notification.name
        let headline = MessageTemplates.fill(
            templates.alertmanager,
            [
                "status": notification.status.uppercased(),
                "count": String(notification.alerts.count),
                "alertname": notification.name,
                "severity": notification.severity ?? "none",
                "summary": summary,
            ])
        let severity = Severity(rawValue: notification.severity ?? "") ?? .none
        let emoji = notification.isResolved ? "✅" : Self.emoji(severity)
        var blocks: [SlackMessage.Block] = [.header("\(emoji) \(headline)")]
        let shown = notification.alerts.prefix(20)
        for alert in shown {
            let state =
                alert.status == "resolved"
                ? "resolved\(Self.setTime(alert.endsAt).map { " at \($0)" } ?? "")"
                    + (Self.setTime(alert.startsAt).map { " (started \($0))" } ?? "")
                : "firing\(Self.setTime(alert.startsAt).map { " since \($0)" } ?? "")"
            var lines = ["*\(mrkdwnEscaped(alert.name))* — \(state)"]
            if let summary = alert.annotations?["summary"] { lines.append(mrkdwnEscaped(summary)) }
            if let description = alert.annotations?["description"] { lines.append(mrkdwnEscaped(description)) }
            let labels = alert.labels.filter { $0.key != "alertname" }.sorted { $0.key < $1.key }
            if !labels.isEmpty {
                lines.append(
                    "Labels: "
                        + labels.map { "`\(mrkdwnEscaped($0.key))=\(mrkdwnEscaped($0.value))`" }.joined(separator: " "))
            }
            if let runbook = alert.annotations?["runbook_url"], Self.isLink(runbook) {
                lines.append("<\(runbook)|Runbook>")
            }
            blocks.append(.section(text: lines.joined(separator: "\n"), fields: []))
        }
        let notShown = notification.alerts.count - shown.count + (notification.truncatedAlerts ?? 0)
        var context = ["Alertmanager\(notification.receiver.map { " · receiver \(mrkdwnEscaped($0))" } ?? "")"]
        if notShown > 0 { context.append("\(notShown) more alerts not shown") }
        if let url = notification.externalURL, Self.isLink(url) { context.append("<\(url)|Open Alertmanager>") }
        blocks.append(.context(context))
        return SlackMessage(
            channel: channel, text: headline, blocks: blocks,
            metadata: .init(
                source: "alertmanager", alerts: notification.alerts.count, subjects: [notification.name],
                status: notification.status)
        ).clamped()
    }

    // MARK: Wording

    static func counted(_ count: Int, _ singular: String, _ plural: String) -> String {
        "\(count) \(count == 1 ? singular : plural)"
    }

    static func score(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(String(format: "%02d", abs(hundredths % 100)))"
    }

    static func describe(_ window: Duration) -> String {
        let milliseconds = window.components.seconds * 1000 + window.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "one batch" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(milliseconds) ms"
    }

    /// An Alertmanager time, unless it is the zero time it sends for "not set".
    static func setTime(_ time: String?) -> String? {
        guard let time, !time.isEmpty, !time.hasPrefix("0001-01-01") else { return nil }
        return time
    }

    static func emoji(_ severity: Severity) -> String {
        switch severity {
        case .critical: "🔴"
        case .warning: "🟠"
        case .none: "🔵"
        }
    }

    /// Only http(s) links go into `<url|label>`; anything else would break the markup.
    private static func isLink(_ text: String) -> Bool {
        (text.hasPrefix("http://") || text.hasPrefix("https://")) && !text.contains(where: { "<>| \n".contains($0) })
    }
}
