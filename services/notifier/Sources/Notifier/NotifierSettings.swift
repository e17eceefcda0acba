// The notifier's own settings (beyond the common ones): flags with environment fallbacks.
import ArgumentParser
import Events
import Foundation
import Telemetry

struct NotifierOptions: ParsableArguments {
    @Option(name: .customLong("webhook-token"),
            help: "Bearer token POST /v1/alertmanager requires; unset: no token needed. [env: NOTIFIER_WEBHOOK_TOKEN]")
    var webhookToken: String?

    @Option(name: .customLong("slack-webhook-url"), help: "Slack incoming-webhook URL (webhook mode). [env: SLACK_WEBHOOK_URL]")
    var slackWebhookURL: String?

    @Option(name: .customLong("slack-bot-token"),
            help: "Slack bot token (bot mode: chat.postMessage, chat.update, threads). [env: SLACK_BOT_TOKEN]")
    var slackBotToken: String?

    @Option(name: .customLong("slack-channel"), help: "Default channel for bot mode and the local sink. [env: SLACK_CHANNEL] (default: #alerts)")
    var slackChannel: String?

    @Option(name: .customLong("slack-api-url"), help: "Base URL of Slack's Web API. [env: SLACK_API_URL] (default: https://slack.com/api)")
    var slackAPIURL: String?

    @Option(name: .customLong("slack-sink-file"),
            help: "With no Slack configured, messages go to the log and to this JSONL file. [env: SLACK_SINK_FILE] (default: slack-messages.jsonl)")
    var slackSinkFile: String?

    @Option(name: .customLong("channel-routes"),
            help: ArgumentHelp("Channel per severity in bot mode, e.g. critical=#ops-critical,warning=#ops; others go to the default channel. [env: NOTIFIER_CHANNEL_ROUTES]",
                               valueName: "severity=channel,..."))
    var channelRoutes: String?

    @Option(name: .customLong("group-window-ms"),
            help: "Anomalies arriving within this window of the first one are folded into one message per device; 0 sends each batch at once. [env: NOTIFIER_GROUP_WINDOW_MS] (default: 10000)")
    var groupWindowMilliseconds: Int?

    @Option(name: .customLong("digest-threshold"),
            help: "More devices or log sources than this firing in one window become one fleet-wide digest. [env: NOTIFIER_DIGEST_THRESHOLD] (default: 5)")
    var digestThreshold: Int?

    @Option(name: .customLong("channel-interval-ms"),
            help: "Least time between two messages to one channel (Slack allows about one per second). [env: NOTIFIER_CHANNEL_INTERVAL_MS] (default: 1000)")
    var channelIntervalMilliseconds: Int?

    @Option(name: .customLong("max-pending"),
            help: "Alerts held (grouped, queued or being sent) before the notifier stops reading more. [env: NOTIFIER_MAX_PENDING] (default: 200000)")
    var maxPending: Int?

    @Option(name: .customLong("dedup-seconds"),
            help: "An Alertmanager notification identical to one within this many seconds is a duplicate. [env: NOTIFIER_DEDUP_SECONDS] (default: 300)")
    var dedupSeconds: Int?

    @Option(name: .customLong("drain-timeout-ms"),
            help: "On shutdown, how long to keep delivering what is pending; the rest is left unacknowledged and sent after restart. [env: NOTIFIER_DRAIN_TIMEOUT_MS] (default: 10000)")
    var drainTimeoutMilliseconds: Int?

    @Option(name: .customLong("consumer-group"), help: "Kafka consumer group. [env: NOTIFIER_CONSUMER_GROUP] (default: notifier)")
    var consumerGroup: String?

    @Option(name: .customLong("anomalies-topic"), help: "Topic of the scorer's anomalies. [env: NOTIFIER_ANOMALIES_TOPIC] (default: anomalies)")
    var anomaliesTopic: String?

    @Option(name: .customLong("alertmanager-topic"),
            help: "Topic the webhook writes Alertmanager notifications to before they are sent. [env: NOTIFIER_ALERTMANAGER_TOPIC] (default: alertmanager)")
    var alertmanagerTopic: String?

    @Option(name: .customLong("template-anomalies"),
            help: "Headline of a device's anomalies. [env: NOTIFIER_TEMPLATE_ANOMALIES] (default: \(MessageTemplates.defaultAnomalies))")
    var anomaliesTemplate: String?

    @Option(name: .customLong("template-logs"),
            help: "Headline of a source's critical log lines. [env: NOTIFIER_TEMPLATE_LOGS] (default: \(MessageTemplates.defaultLogs))")
    var logsTemplate: String?

    @Option(name: .customLong("template-digest"),
            help: "Headline of a fleet-wide digest. [env: NOTIFIER_TEMPLATE_DIGEST] (default: \(MessageTemplates.defaultDigest))")
    var digestTemplate: String?

    @Option(name: .customLong("template-alertmanager"),
            help: "Headline of an Alertmanager notification. [env: NOTIFIER_TEMPLATE_ALERTMANAGER] (default: \(MessageTemplates.defaultAlertmanager))")
    var alertmanagerTemplate: String?

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> NotifierSettings {
        func text(_ flag: String?, _ name: String, _ fallback: String) throws -> String {
            try Setting.resolve(flag, env: name, default: fallback, environment: environment)
        }
        func number(_ flag: Int?, _ name: String, _ fallback: Int, atLeast minimum: Int, _ flagName: String) throws -> Int {
            let value = try Setting.resolve(flag, env: name, default: fallback, environment: environment)
            guard value >= minimum else { throw ValidationError("\(flagName) / \(name) must be at least \(minimum)") }
            return value
        }
        let channel = try text(slackChannel, "SLACK_CHANNEL", "#alerts")
        let slack = try SlackMode(
            webhookURL: Setting.resolve(slackWebhookURL, env: "SLACK_WEBHOOK_URL", environment: environment),
            botToken: Setting.resolve(slackBotToken, env: "SLACK_BOT_TOKEN", environment: environment),
            apiURL: try text(slackAPIURL, "SLACK_API_URL", "https://slack.com/api"),
            sinkFile: try text(slackSinkFile, "SLACK_SINK_FILE", "slack-messages.jsonl"))
        return NotifierSettings(
            webhookToken: Setting.resolve(webhookToken, env: "NOTIFIER_WEBHOOK_TOKEN", environment: environment),
            slack: slack,
            routes: try ChannelRoutes(Setting.resolve(channelRoutes, env: "NOTIFIER_CHANNEL_ROUTES", environment: environment),
                                      defaultChannel: channel),
            groupWindow: .milliseconds(try number(groupWindowMilliseconds, "NOTIFIER_GROUP_WINDOW_MS", 10_000, atLeast: 0, "--group-window-ms")),
            digestThreshold: try number(digestThreshold, "NOTIFIER_DIGEST_THRESHOLD", 5, atLeast: 1, "--digest-threshold"),
            channelInterval: .milliseconds(try number(channelIntervalMilliseconds, "NOTIFIER_CHANNEL_INTERVAL_MS", 1000, atLeast: 0,
                                                      "--channel-interval-ms")),
            maxPending: try number(maxPending, "NOTIFIER_MAX_PENDING", 200_000, atLeast: 1, "--max-pending"),
            dedupWindow: .seconds(try number(dedupSeconds, "NOTIFIER_DEDUP_SECONDS", 300, atLeast: 0, "--dedup-seconds")),
            drainTimeout: .milliseconds(try number(drainTimeoutMilliseconds, "NOTIFIER_DRAIN_TIMEOUT_MS", 10_000, atLeast: 0,
                                                   "--drain-timeout-ms")),
            consumerGroup: try text(consumerGroup, "NOTIFIER_CONSUMER_GROUP", "notifier"),
            anomaliesTopic: try text(anomaliesTopic, "NOTIFIER_ANOMALIES_TOPIC", Topic.anomalies),
            alertmanagerTopic: try text(alertmanagerTopic, "NOTIFIER_ALERTMANAGER_TOPIC", Topic.alertmanager),
            templates: try MessageTemplates(
                anomalies: text(anomaliesTemplate, "NOTIFIER_TEMPLATE_ANOMALIES", MessageTemplates.defaultAnomalies),
                logs: text(logsTemplate, "NOTIFIER_TEMPLATE_LOGS", MessageTemplates.defaultLogs),
                digest: text(digestTemplate, "NOTIFIER_TEMPLATE_DIGEST", MessageTemplates.defaultDigest),
                alertmanager: text(alertmanagerTemplate, "NOTIFIER_TEMPLATE_ALERTMANAGER", MessageTemplates.defaultAlertmanager)))
    }
}

/// Where messages go. The URL and token are secrets: `description` leaves them out.
enum SlackMode: Sendable, CustomStringConvertible {
    case webhook(URL)
    case bot(token: String, apiURL: URL)
    case sink(path: String)

    init(webhookURL: String?, botToken: String?, apiURL: String, sinkFile: String) throws {
        switch (webhookURL, botToken) {
        case (.some, .some):
            throw ValidationError("set SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN, not both: one decides how messages are sent")
        case (.some(let text), nil):
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("SLACK_WEBHOOK_URL / --slack-webhook-url is not an http(s) URL")
            }
            self = .webhook(url)
        case (nil, .some(let token)):
            guard let url = URL(string: apiURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("SLACK_API_URL / --slack-api-url is not an http(s) URL")
            }
            self = .bot(token: token, apiURL: url)
        case (nil, nil):
            self = .sink(path: sinkFile)
        }
    }

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

    init(_ spec: String?, defaultChannel: String) throws {
        self.defaultChannel = defaultChannel
        for entry in (spec ?? "").split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("NOTIFIER_CHANNEL_ROUTES / --channel-routes: '\(entry)' is not severity=channel")
            }
            bySeverity[parts[0].lowercased()] = parts[1]
        }
    }

    func channel(forSeverity severity: String?) -> String {
        severity.flatMap { bySeverity[$0.lowercased()] } ?? defaultChannel
    }

    /// Every channel a message can go to.
    var all: Set<String> { Set(bySeverity.values).union([defaultChannel]) }
}

/// Resolved notifier settings; the defaults are the documented ones.
struct NotifierSettings: Sendable {
    var webhookToken: String?
    var slack: SlackMode = .sink(path: "slack-messages.jsonl")
    var routes = try! ChannelRoutes(nil, defaultChannel: "#alerts")
    var groupWindow: Duration = .seconds(10)
    var digestThreshold = 5
    var channelInterval: Duration = .seconds(1)
    var maxPending = 200_000
    var dedupWindow: Duration = .seconds(300)
    var drainTimeout: Duration = .seconds(10)
    var consumerGroup = "notifier"
    var anomaliesTopic = Topic.anomalies
    var alertmanagerTopic = Topic.alertmanager
    var templates = MessageTemplates()
    /// Largest webhook body accepted: it is stored as one Kafka message, and Kafka's default
    /// message.max.bytes is 1,000,000. Alertmanager's `max_alerts` keeps bodies small.
    var maxWebhookBytes = 900_000
    /// How long the webhook waits for the broker before answering 503 (Alertmanager then retries).
    var webhookAckTimeout: Duration = .seconds(5)
    /// Longest wait between retries of a message Slack did not take (5xx, network errors).
    var maxRetryDelay: Duration = .seconds(60)
    /// Event ids remembered to drop duplicates (the scorer repeats a batch after a crash).
    var rememberedIDs = 100_000
}
