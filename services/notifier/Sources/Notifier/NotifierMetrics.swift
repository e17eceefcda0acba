// The notifier's metrics, all alertron_notifier_*; labels are bounded (sources, outcomes,
// retry reasons, Slack methods, Slack's own error codes, HTTP status codes). Built from the
// runtime's metric factory, so tests can read what was counted.
import Events
import Metrics
import Kafka
import SlackSignature
import Telemetry

/// Labelled series are created at 0 at start-up, so rate() sees the first event and
/// dashboards show 0, not No data.
package struct NotifierMetrics: Sendable {
    package static let catalog: MetricsCatalog = {
        var catalog = MetricsCatalog(help: [
            "alertron_notifier_alerts_received_total":
                """
            Alerts read, by source: anomalous events from the anomalies topic, or alerts in Alertmanager \
            notifications.
            """,
            "alertron_notifier_duplicates_total":
                """
            Alerts dropped as repeats of one already handled, by source (event id, or Alertmanager \
            group+status+fingerprints).
            """,
            "alertron_notifier_messages_total":
                """
            Slack messages (posts, updates, thread replies) by outcome: delivered, dead_lettered after a \
            permanent Slack error, or reposted (an update found its message deleted, so it was posted again).
            """,
            "alertron_notifier_slack_retries_total":
                """
            Slack requests sent again, by reason: rate_limited (429, after Retry-After), server_error (5xx or \
            a temporary Slack error), network.
            """,
            "alertron_notifier_slack_request_duration_seconds":
                "Time Slack (or the local sink) took to answer one request, by method.",
            "alertron_notifier_pending_messages":
                "Slack messages queued or being sent (waiting for the channel's pace, a Retry-After or a retry).",
            "alertron_notifier_pending_alerts":
                "Alerts read whose offsets cannot be stored yet: grouped, queued or being sent.",
            "alertron_notifier_dead_letters_total":
                """
            Messages and events written to a dead-letter topic, by reason (Slack's error code, or why an \
            event was unreadable).
            """,
            "alertron_notifier_webhook_requests_total": "Requests to POST /v1/alertmanager, by HTTP status code.",
            "alertron_notifier_episodes_closed_total":
                "Devices' episodes the scorer announced over (read from anomalies); each resolves its incident.",
            "alertron_notifier_interactions_total": "Requests to POST /slack/interactions, by HTTP status code.",
            "alertron_notifier_interactions_refused_total":
                """
            Slack interaction requests refused before anything changed, by reason: unsigned, forged (the \
            signature does not match) or stale (older than 5 minutes: a replay).
            """,
            "alertron_notifier_verdicts_total":
                """
            People's verdicts from Slack acted on, by verdict (acknowledged, silenced, not_anomaly, resolved) \
            and outcome (applied, already, unknown_incident, invalid, no_alertmanager).
            """,
            "alertron_notifier_silences_total":
                "Alertmanager silences asked for, by outcome: created, failed (retried) or refused (4xx).",
            "alertron_notifier_muted_total": "Alerts of muted devices or log sources: counted, not sent to Slack.",
            "alertron_notifier_open_incidents": "Incidents open now (devices' episodes, log bursts, digests, groups).",
            "alertron_notifier_incidents_restored_total":
                "Incident records read back from the incidents topic (at start and after rebalances).",
            "alertron_notifier_incident_restore_failures_total":
                "Times the incidents topic could not be read back (tried again before the next batch).",
        ])
        catalog.durationBuckets["alertron_notifier_slack_request_duration_seconds"] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        return catalog.including(KafkaMetricsHelp.all)
    }()

    private let handles: MetricHandles
    private let deadLetterCounts: CountersFromZero

    let pendingMessages: Gauge
    let pendingAlerts: Gauge
    let episodesClosed: Counter
    let muted: Counter
    let openIncidents: Gauge
    let incidentsRestored: Counter
    let incidentRestoreFailures: Counter

    package init(_ handles: MetricHandles) {
        self.handles = handles
        pendingMessages = handles.gauge("alertron_notifier_pending_messages")
        pendingAlerts = handles.gauge("alertron_notifier_pending_alerts")
        episodesClosed = handles.counter("alertron_notifier_episodes_closed_total")
        muted = handles.counter("alertron_notifier_muted_total")
        openIncidents = handles.gauge("alertron_notifier_open_incidents")
        incidentsRestored = handles.counter("alertron_notifier_incidents_restored_total")
        incidentRestoreFailures = handles.counter("alertron_notifier_incident_restore_failures_total")
        deadLetterCounts = CountersFromZero("alertron_notifier_dead_letters_total", handles: handles)
        declareSeries()
    }

    /// Every label value the call sites (NotifierWorker, SlackDelivery, SlackInteractions,
    /// AlertmanagerWebhook) can count.
    private func declareSeries() {
        declare("alertron_notifier_alerts_received_total", "source", ["anomalies", "alertmanager"])
        declare("alertron_notifier_duplicates_total", "source", ["anomalies", "alertmanager"])
        declare("alertron_notifier_messages_total", "outcome", ["delivered", "dead_lettered", "reposted"])
        declare("alertron_notifier_slack_retries_total", "reason", ["rate_limited", "server_error", "network"])
        // Slack's own error codes (and http_<status>) cannot all be listed: deadLettered shows
        // each at 0 to a scrape before it counts (DeadLettersRising reads its increase).
        for reason in ["tombstone", "invalid_payload"] + EventError.Code.allCases.map(\.rawValue) {
            deadLetterCounts.declare([("reason", reason)])
        }
        declare("alertron_notifier_webhook_requests_total", "status", ["200", "400", "401", "413", "503"])
        declare("alertron_notifier_interactions_total", "status", ["200", "400", "401", "413", "503"])
        declare(
            "alertron_notifier_interactions_refused_total", "reason", SlackSignature.Refusal.allCases.map(\.rawValue))
        declare("alertron_notifier_silences_total", "outcome", ["created", "failed", "refused"])
        // IncidentBook.apply: a silence is never `already` done, and only a silence can lack its
        // end (`invalid`) or need Alertmanager.
        for verdict in Feedback.Verdict.allCases {
            let outcomes = verdict == .silenced ? ["invalid", "no_alertmanager"] : ["already"]
            for outcome in ["applied", "unknown_incident"] + outcomes {
                _ = handles.counter(
                    "alertron_notifier_verdicts_total", [("verdict", verdict.rawValue), ("outcome", outcome)])
            }
        }
        // Which methods a transport uses depends on it (a webhook only `webhook`): all start at 0.
        for method in SlackMethod.allCases {
            _ = handles.timer("alertron_notifier_slack_request_duration_seconds", [("method", method.rawValue)])
        }
    }

    private func declare(_ name: String, _ label: String, _ values: [String]) {
        for value in values { _ = handles.counter(name, [(label, value)]) }
    }

    func interactions(status: Int) -> Counter {
        handles.counter("alertron_notifier_interactions_total", [("status", String(status))])
    }
    func interactionsRefused(reason: String) -> Counter {
        handles.counter("alertron_notifier_interactions_refused_total", [("reason", reason)])
    }
    func verdicts(_ verdict: String, outcome: String) -> Counter {
        handles.counter("alertron_notifier_verdicts_total", [("verdict", verdict), ("outcome", outcome)])
    }
    func silences(outcome: String) -> Counter {
        handles.counter("alertron_notifier_silences_total", [("outcome", outcome)])
    }

    func received(source: String) -> Counter {
        handles.counter("alertron_notifier_alerts_received_total", [("source", source)])
    }
    func duplicates(source: String) -> Counter {
        handles.counter("alertron_notifier_duplicates_total", [("source", source)])
    }
    func messages(outcome: String) -> Counter {
        handles.counter("alertron_notifier_messages_total", [("outcome", outcome)])
    }
    func retries(reason: String) -> Counter {
        handles.counter("alertron_notifier_slack_retries_total", [("reason", reason)])
    }
    func deadLettered(reason: String) {
        deadLetterCounts.increment([("reason", reason)])
    }
    func webhookRequests(status: Int) -> Counter {
        handles.counter("alertron_notifier_webhook_requests_total", [("status", String(status))])
    }

    func slackLatency(_ method: SlackMethod) -> Timer {
        handles.timer("alertron_notifier_slack_request_duration_seconds", [("method", method.rawValue)])
    }
}
