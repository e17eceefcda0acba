// Turns grouped anomalies and Alertmanager notifications into Slack messages: a headline from
// a small per-source template, Block Kit details below it, and Slack's limits applied.
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

    // MARK: Anomalies

    func message(for notification: GroupedNotification) -> SlackMessage {
        switch notification {
        case .group(let group, let channel, let window): message(for: group, channel: channel, window: window)
        case .digest(let groups, let channel, let window): digest(groups, channel: channel, window: window)
        }
    }

    private func message(for group: AlertGroup, channel: String, window: Duration) -> SlackMessage {
        let isLog = group.key.kind == .log
        let headline = MessageTemplates.fill(
            isLog ? templates.logs : templates.anomalies,
            [
                "count": String(group.count),
                "anomalies": Self.counted(group.count, "anomaly", "anomalies"),
                "lines": Self.counted(group.count, "critical log line", "critical log lines"),
                "subject": group.key.subject,
                "window": Self.describe(window),
                "worst_score": Self.score(group.worst.score),
                "severity": group.severity.rawValue,
                "model": group.worst.model,
            ])
        var fields = [
            "*\(isLog ? "Source" : "Device")*\n`\(mrkdwnEscaped(group.key.subject))`",
            "*\(isLog ? "Critical lines" : "Anomalies")*\n\(group.count)",
            "*\(isLog ? "Worst probability" : "Worst score")*\n\(Self.score(group.worst.score))",
            "*Severity*\n\(group.severity.rawValue)",
            "*First*\n\(group.firstTS)",
        ]
        if group.count > 1 { fields.append("*Last*\n\(group.lastTS)") }
        let detail =
            isLog
            ? "*\(group.samples.count == group.count ? "Lines" : "First lines")*\n"
                + group.samples.map { "```\(mrkdwnEscaped($0).replacingOccurrences(of: "```", with: "'''"))```" }
                .joined(separator: "\n")
            : (group.worst.why.map { "*Why*\n\(mrkdwnEscaped($0))\n" } ?? "")
                + "*Worst reading* (`\(mrkdwnEscaped(group.worst.id))`, \(group.worst.ts))\n\(group.worst.detail)"
                + (group.worst.episode.map { "\nEpisode `\(mrkdwnEscaped($0))`" } ?? "")
        return SlackMessage(
            channel: channel, text: headline,
            blocks: [
                .header("\(Self.emoji(group.severity)) \(headline)"),
                .section(text: nil, fields: fields),
                .section(text: detail, fields: []),
                .context([
                    "Model `\(mrkdwnEscaped(group.worst.model))` · grouped over \(Self.describe(window)) · Alertron"
                ]),
            ],
            metadata: .init(
                source: "anomalies", alerts: group.count, subjects: [group.key.subject],
                readings: isLog ? 0 : group.count, logs: isLog ? group.count : 0)
        ).clamped()
    }

    private func digest(_ groups: [AlertGroup], channel: String, window: Duration) -> SlackMessage {
        let count = groups.reduce(0) { $0 + $1.count }
        let severity = groups.map(\.severity).max() ?? .none
        let worst = groups.map(\.worst.score).max() ?? 0
        let devices = groups.filter { $0.key.kind == .reading }.count
        let sources = groups.count - devices
        let subjects = [
            devices > 0 ? Self.counted(devices, "device", "devices") : nil,
            sources > 0 ? Self.counted(sources, "log source", "log sources") : nil,
        ].compactMap { $0 }.joined(separator: " and ")
        let headline = MessageTemplates.fill(
            templates.digest,
            [
                "count": String(count),
                "anomalies": Self.counted(count, "anomaly", "anomalies"),
                "subjects": subjects,
                "window": Self.describe(window),
                "worst_score": Self.score(worst),
                "severity": severity.rawValue,
            ])
        // The noisiest first; Slack shows at most 10 fields, the rest are summed up.
        let ranked = groups.sorted { ($0.count, $0.worst.score) > ($1.count, $1.worst.score) }
        var fields = ranked.prefix(9).map { group in
            let (one, many) = group.key.kind == .log ? ("critical line", "critical lines") : ("anomaly", "anomalies")
            return "*\(mrkdwnEscaped(group.key.subject))*\n\(Self.counted(group.count, one, many)), "
                + "worst \(Self.score(group.worst.score)) \(group.severity.rawValue)"
        }
        if ranked.count > 9 {
            let rest = ranked.dropFirst(9)
            fields.append(
                "*… and \(rest.count) more*\n"
                    + Self.counted(rest.reduce(0) { $0 + $1.count }, "anomaly", "anomalies"))
        }
        return SlackMessage(
            channel: channel, text: headline,
            blocks: [
                .header("\(Self.emoji(severity)) \(headline)"),
                .section(
                    text: "Many sources fired at once, so they are summed up in one message. The noisiest:",
                    fields: []),
                .section(text: nil, fields: fields),
                .context([
                    "\(groups.count) subjects, \(count) alerts · grouped over \(Self.describe(window)) · Alertron"
                ]),
            ],
            metadata: .init(
                source: "anomalies", alerts: count, subjects: ranked.map(\.key.subject),
                readings: groups.filter { $0.key.kind == .reading }.reduce(0) { $0 + $1.count },
                logs: groups.filter { $0.key.kind == .log }.reduce(0) { $0 + $1.count })
        ).clamped()
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

    /// The reply in the original message's thread when a notification resolves.
    func resolvedReply(for notification: AlertmanagerNotification, channel: String, threadTS: String) -> SlackMessage {
        let ended = notification.alerts.compactMap { Self.setTime($0.endsAt) }.max() ?? ""
        let text =
            """
            ✅ Resolved: \(notification.name) \
            (\(Self.counted(notification.alerts.count, "alert", "alerts")))\(ended.isEmpty ? "" : " at \(ended)")
            """
        return SlackMessage(
            channel: channel, text: text, blocks: [.section(text: mrkdwnEscaped(text), fields: [])], threadTS: threadTS,
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
