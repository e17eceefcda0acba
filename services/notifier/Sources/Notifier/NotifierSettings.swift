// The notifier's own settings, each declared once: flag, environment variable, help, and the
// field (whose initial value is the default).
import Events
import Foundation
import Kafka
import Telemetry

/// Resolved notifier settings. How Slack is reached follows from which of its settings are set.
package struct NotifierSettings: DeclaredSettings {
    /// Every setting at its default.
    package init() {}

    package var kafka = KafkaConfiguration(clientID: "notifier")
    package var webhookToken: String?
    package var slackWebhookURL: URL?
    package var slackBotToken: String?
    package var slackAPIURL = URL(string: "https://slack.com/api")!
    package var slackSinkFile = "slack-messages.jsonl"
    package var slackChannel = "#alerts"
    /// Channel per severity (bot mode and the sink); the rest go to `slackChannel`.
    package var channelRoutes: [String: String] = [:]
    package var groupWindow: Duration = .seconds(10)
    package var digestThreshold = 5
    package var channelInterval: Duration = .seconds(1)
    package var maxPending = 200_000
    package var dedupWindow: Duration = .seconds(300)
    package var drainTimeout: Duration = .seconds(10)
    package var consumerGroup = "notifier"
    package var anomaliesTopic = Topic.anomalies
    package var alertmanagerTopic = Topic.alertmanager
    package var feedbackTopic = Topic.feedback
    package var incidentsTopic = Topic.notifierIncidents
    /// Verifies Slack's interaction requests; nil: the buttons and their route are off.
    package var slackSigningSecret: String?
    /// Where silences of Alertmanager groups are created (API v2).
    package var alertmanagerURL: URL?
    /// An open incident nobody acknowledged gets a reminder this often; zero: never.
    package var remindEvery: Duration = .seconds(1800)
    /// A log burst or a fleet-wide digest is over after this long without a new alert.
    package var incidentQuiet: Duration = .seconds(600)
    /// Resolved incidents are forgotten this long after they resolved.
    package var incidentRetention: Duration = .seconds(86_400)
    var templates = MessageTemplates()
    /// Largest webhook body accepted: it is stored as one Kafka message, and Kafka's default
    /// message.max.bytes is 1,000,000. Alertmanager's `max_alerts` keeps bodies small.
    package var maxWebhookBytes = 900_000
    /// How long the webhook waits for the broker before answering 503 (Alertmanager then retries).
    package var webhookAckTimeout: Duration = .seconds(5)
    /// Longest wait between retries of a message Slack did not take (5xx, network errors).
    package var maxRetryDelay: Duration = .seconds(60)
    /// Event ids remembered to drop duplicates (the scorer repeats a batch after a crash).
    package var rememberedIDs = 100_000

    var slack: SlackMode {
        if let slackWebhookURL { return .webhook(slackWebhookURL) }
        if let slackBotToken { return .bot(token: slackBotToken, apiURL: slackAPIURL) }
        return .sink(path: slackSinkFile)
    }

    var routes: ChannelRoutes { ChannelRoutes(defaultChannel: slackChannel, bySeverity: channelRoutes) }

    package mutating func finish() throws {
        guard slackWebhookURL == nil || slackBotToken == nil else {
            throw SettingsError("set SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN, not both: one decides how messages are sent")
        }
    }

    package static let declarations: [Setting<NotifierSettings>] =
        KafkaConfiguration.declarations.within(\.kafka) + [
            .optional(
                "webhook-token", env: "NOTIFIER_WEBHOOK_TOKEN", \.webhookToken,
                help: "Bearer token POST /v1/alertmanager requires; unset: no token needed.", secret: true),
            .parsed(
                "slack-webhook-url", env: "SLACK_WEBHOOK_URL", \.slackWebhookURL,
                help: "Slack incoming-webhook URL (webhook mode).",
                valueName: "url", secret: true, rule: "is not an http(s) URL", parse: { httpURL($0).map { .some($0) } },
                show: { $0?.absoluteString }),
            .optional(
                "slack-bot-token", env: "SLACK_BOT_TOKEN", \.slackBotToken,
                help: "Slack bot token (bot mode: chat.postMessage, chat.update, threads).", valueName: "token",
                secret: true),
            .value(
                "slack-channel", env: "SLACK_CHANNEL", \.slackChannel,
                help: "Default channel for bot mode and the local sink.",
                valueName: "channel"),
            .parsed(
                "slack-api-url", env: "SLACK_API_URL", \.slackAPIURL, help: "Base URL of Slack's Web API.",
                valueName: "url",
                rule: "is not an http(s) URL", parse: httpURL, show: { $0.absoluteString }),
            .value(
                "slack-sink-file", env: "SLACK_SINK_FILE", \.slackSinkFile,
                help: "With no Slack configured, messages go to the log and to this JSONL file.", valueName: "path"),
            .parsed(
                "channel-routes", env: "NOTIFIER_CHANNEL_ROUTES", \.channelRoutes,
                help:
                    """
                    Channel per severity in bot mode, e.g. critical=#ops-critical,warning=#ops; others go to the \
                    default channel.
                    """,
                valueName: "severity=channel,...", rule: "must be severity=channel pairs", parse: ChannelRoutes.parse,
                show: { routes in
                    routes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                }),
            milliseconds(
                "group-window-ms", env: "NOTIFIER_GROUP_WINDOW_MS", \.groupWindow, atLeast: 0,
                help:
                    """
                    Anomalies arriving within this window of the first one are folded into one message per \
                    device; 0 sends each batch at once.
                    """
            ),
            .value(
                "digest-threshold", env: "NOTIFIER_DIGEST_THRESHOLD", \.digestThreshold,
                help: "More devices or log sources than this firing in one window become one fleet-wide digest.",
                valueName: "n", rule: "must be at least 1", where: { $0 >= 1 }),
            milliseconds(
                "channel-interval-ms", env: "NOTIFIER_CHANNEL_INTERVAL_MS", \.channelInterval, atLeast: 0,
                help: "Least time between two messages to one channel (Slack allows about one per second)."),
            .value(
                "max-pending", env: "NOTIFIER_MAX_PENDING", \.maxPending,
                help: "Alerts held (grouped, queued or being sent) before the notifier stops reading more.",
                valueName: "n", rule: "must be at least 1", where: { $0 >= 1 }),
            seconds(
                "dedup-seconds", env: "NOTIFIER_DEDUP_SECONDS", \.dedupWindow,
                help: "An Alertmanager notification identical to one within this many seconds is a duplicate."),
            milliseconds(
                "drain-timeout-ms", env: "NOTIFIER_DRAIN_TIMEOUT_MS", \.drainTimeout, atLeast: 0,
                help:
                    """
                    On shutdown, how long to keep delivering what is pending; the rest is left unacknowledged and \
                    sent after restart.
                    """
            ),
            .value(
                "consumer-group", env: "NOTIFIER_CONSUMER_GROUP", \.consumerGroup, help: "Kafka consumer group.",
                valueName: "group"),
            .value(
                "anomalies-topic", env: "NOTIFIER_ANOMALIES_TOPIC", \.anomaliesTopic,
                help: "Topic of the scorer's anomalies.",
                valueName: "topic"),
            .value(
                "alertmanager-topic", env: "NOTIFIER_ALERTMANAGER_TOPIC", \.alertmanagerTopic,
                help: "Topic the webhook writes Alertmanager notifications to before they are sent.", valueName: "topic"
            ),
            .value(
                "feedback-topic", env: "NOTIFIER_FEEDBACK_TOPIC", \.feedbackTopic,
                help: "Topic of people's verdicts from Slack (written by the interactions route, read back here).",
                valueName: "topic"),
            .value(
                "incidents-topic", env: "NOTIFIER_INCIDENTS_TOPIC", \.incidentsTopic,
                help: "Compacted topic of each incident's Slack message, acknowledgement and silence.",
                valueName: "topic"),
            .optional(
                "slack-signing-secret", env: "SLACK_SIGNING_SECRET", \.slackSigningSecret,
                help:
                    """
                    The Slack app's signing secret: turns on the buttons and POST /slack/interactions, which \
                    verifies every request with it; unset: no buttons, and the route answers 404.
                    """,
                valueName: "secret", secret: true),
            .parsed(
                "alertmanager-url", env: "ALERTMANAGER_URL", \.alertmanagerURL,
                help: "Alertmanager's base URL, where Silence buttons create silences (API v2).",
                valueName: "url", rule: "is not an http(s) URL", parse: { httpURL($0).map { .some($0) } },
                show: { $0?.absoluteString }),
            seconds(
                "remind-after-s", env: "NOTIFIER_REMIND_AFTER_S", \.remindEvery,
                help: "An open incident nobody acknowledged gets a reminder in its thread this often; 0: never."),
            seconds(
                "incident-quiet-s", env: "NOTIFIER_INCIDENT_QUIET_S", \.incidentQuiet,
                help: "A log burst or a fleet-wide digest is over after this many seconds without a new alert."),
            seconds(
                "incident-retention-s", env: "NOTIFIER_INCIDENT_RETENTION_S", \.incidentRetention,
                help: "Resolved incidents (and their records) are forgotten this many seconds after they resolved."),
            template(
                "template-anomalies", env: "NOTIFIER_TEMPLATE_ANOMALIES", \.templates.anomalies,
                help: "Headline of a device's anomalies.", placeholders: MessageTemplates.groupPlaceholders),
            template(
                "template-logs", env: "NOTIFIER_TEMPLATE_LOGS", \.templates.logs,
                help: "Headline of a source's critical log lines.", placeholders: MessageTemplates.groupPlaceholders),
            template(
                "template-digest", env: "NOTIFIER_TEMPLATE_DIGEST", \.templates.digest,
                help: "Headline of a fleet-wide digest.", placeholders: MessageTemplates.digestPlaceholders),
            template(
                "template-alertmanager", env: "NOTIFIER_TEMPLATE_ALERTMANAGER", \.templates.alertmanager,
                help: "Headline of an Alertmanager notification.",
                placeholders: MessageTemplates.alertmanagerPlaceholders),
        ]

    private static func httpURL(_ text: String) -> URL? {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
        else { return nil }
        return url
    }

    /// A duration given as a whole number of `unit`s (`ms` or `seconds`), at least `minimum`.
    private static func duration(
        _ flag: String, env: String, _ field: WritableKeyPath<Self, Duration> & Sendable, unit: Duration,
        atLeast minimum: Int = 0, help: String
    ) -> Setting<Self> {
        .parsed(
            flag, env: env, field, help: help, valueName: unit == .milliseconds(1) ? "ms" : "seconds",
            rule: "must be at least \(minimum)", parse: { Int($0).flatMap { $0 >= minimum ? unit * $0 : nil } },
            show: { "\(Int(($0 / unit).rounded()))" })
    }

    private static func milliseconds(
        _ flag: String, env: String, _ field: WritableKeyPath<Self, Duration> & Sendable,
        atLeast minimum: Int, help: String
    ) -> Setting<Self> {
        duration(flag, env: env, field, unit: .milliseconds(1), atLeast: minimum, help: help)
    }

    private static func seconds(
        _ flag: String, env: String, _ field: WritableKeyPath<Self, Duration> & Sendable, help: String
    ) -> Setting<Self> {
        duration(flag, env: env, field, unit: .seconds(1), help: help)
    }

    private static func template(
        _ flag: String, env: String, _ field: WritableKeyPath<Self, String> & Sendable, help: String,
        placeholders: Set<String>
    ) -> Setting<Self> {
        .parsed(
            flag, env: env, field, help: help, valueName: "template", rule: "is not a template",
            parse: { text throws(SettingsError) in try MessageTemplates.checked(text, allowed: placeholders) },
            show: { $0 })
    }
}

/// Where messages go. The URL and token are secrets: `description` leaves them out.
enum SlackMode: Sendable, CustomStringConvertible {
    case webhook(URL)
    case bot(token: String, apiURL: URL)
    case sink(path: String)

    var description: String {
        switch self {
        case .webhook: "incoming webhook"
        case .bot(_, let apiURL): "bot token via \(apiURL.host ?? "?")"
        case .sink(let path): "local sink \(path)"
        }
    }
}

/// Channel by severity (bot mode and the sink; an incoming webhook posts where it was created).
struct ChannelRoutes: Sendable, Equatable {
    var defaultChannel: String
    var bySeverity: [String: String] = [:]

    /// `critical=#ops-critical,warning=#ops` as severity -> channel.
    static func parse(_ spec: String) throws(SettingsError) -> [String: String] {
        var routes: [String: String] = [:]
        for entry in spec.split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw SettingsError("'\(entry)' is not severity=channel")
            }
            routes[parts[0].lowercased()] = parts[1]
        }
        return routes
    }

    func channel(forSeverity severity: String?) -> String {
        severity.flatMap { bySeverity[$0.lowercased()] } ?? defaultChannel
    }

    /// Every channel a message can go to.
    var all: Set<String> { Set(bySeverity.values).union([defaultChannel]) }
}
