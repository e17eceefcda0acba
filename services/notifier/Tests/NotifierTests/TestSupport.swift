// The notifier's test mesh: a development Kafka cluster with the notifier's topics, a Slack
// stand-in, and a notifier service running against both until stopped.
import AlertronTesting
import Events
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import CoreMetrics
import Logging
import ServiceLifecycle
import SlackStandIn
import Telemetry
@testable import Notifier

let quietLogger = testLogger("notifier-tests")

extension TestMesh {
    /// A development broker with the notifier's topics, and a producer to feed it.
    convenience init() throws {
        try self.init(
            topics: [Topic.anomalies, Topic.alertmanager, Topic.feedback].flatMap { [$0, Topic.deadLetters(of: $0)] }
                + [Topic.notifierIncidents], partitions: 3,
            clientID: "notifier-tests", logger: quietLogger)
    }

    func send(_ anomalies: [ScoredEvent]) async throws {
        try await send(anomalies.map { ($0.event.key, EventWriter.encode($0)) }, to: Topic.anomalies)
    }

    func sendRaw(_ payloads: [[UInt8]], topic: String = Topic.anomalies, key: String = "raw") async throws {
        try await send(payloads.map { (key, $0) }, to: topic)
    }
}

/// An anomalous reading as the scorer writes it.
func anomaly(
    _ device: String, id: String = EventID.generate(), score: Double = 0.8, severity: Severity = .critical
) -> ScoredEvent {
    ScoredEvent(
        event: .reading(
            Reading(id: id, ts: Timestamp.now(), deviceID: device, temperature: 95, pressure: 1013, vibration: 0.5)),
        score: score, anomaly: true, severity: severity, model: "iforest@test", scoredAt: Timestamp.now())
}

/// A critical log line as the scorer writes it.
func criticalLog(_ source: String, _ message: String, id: String = EventID.generate()) -> ScoredEvent {
    ScoredEvent(
        event: .log(LogEvent(id: id, ts: Timestamp.now(), source: source, message: message, level: "ERROR")),
        score: 0.97, anomaly: true, severity: .critical, model: "log_severity@test", scoredAt: Timestamp.now())
}

/// Settings for a notifier that talks to the stand-in at `slack` (its base URL).
func botSettings(
    _ slack: String, window: Duration = .milliseconds(300), interval: Duration = .milliseconds(50),
    group: String = "notifier-\(EventID.generate())"
) -> NotifierSettings {
    var settings = NotifierSettings()
    settings.slackBotToken = "xoxb-test"
    settings.slackAPIURL = URL(string: slack + "/api")!
    settings.groupWindow = window
    settings.channelInterval = interval
    settings.maxRetryDelay = .milliseconds(400)
    settings.consumerGroup = group
    return settings
}

func webhookSettings(
    _ slack: String, window: Duration = .milliseconds(300), interval: Duration = .milliseconds(50)
) -> NotifierSettings {
    var settings = botSettings(slack, window: window, interval: interval)
    settings.slackBotToken = nil
    settings.slackWebhookURL = URL(string: slack + "/services/T000/B000/XXXX")!
    return settings
}

/// Runs `body` with a fresh mesh and a notifier between it and `slack` (served meanwhile), the
/// notifier set up by `settings` from the stand-in's base URL; the notifier stops afterwards.
func withNotifier(
    _ slack: SlackStandIn = SlackStandIn(),
    settings: @escaping @Sendable (String) -> NotifierSettings = { botSettings($0) },
    metrics: (any MetricsFactory & Sendable)? = nil,
    _ body: @escaping @Sendable (TestMesh, RunningNotifier) async throws -> Void
) async throws {
    let mesh = try TestMesh()
    try await slack.withServer { base in
        let notifier = try await RunningNotifier(mesh: mesh, settings: settings(base), metrics: metrics)
        do {
            try await body(mesh, notifier)
        } catch {
            _ = await notifier.stop()
            throw error
        }
        _ = await notifier.stop()
    }
}

/// A notifier service on the test mesh until `stop()`.
final class RunningNotifier: Sendable {
    let worker: NotifierWorker
    let port: Int
    private let running: RunningGroup

    init(mesh: TestMesh, settings: NotifierSettings, metrics: (any MetricsFactory)? = nil) async throws {
        var settings = settings
        settings.kafka = mesh.kafka
        let runtime = ServiceRuntime(
            settings: ServiceSettings(serviceName: "notifier"), logger: quietLogger, metricsFactory: metrics)
        let (listening, announce) = AsyncStream.makeStream(of: Int.self)
        let (application, worker) = try buildApplication(runtime: runtime, settings: settings) { port in
            announce.yield(port)
            announce.finish()
        }
        self.worker = worker
        running = RunningGroup([application], logger: quietLogger)
        var ports = listening.makeAsyncIterator()
        guard let port = await ports.next() else { throw TimedOut(what: "the notifier to listen") }
        self.port = port
    }

    func stop() async -> Result<Void, any Error> { await running.stop() }
}

extension SlackStandIn.RecordedRequest {
    var header: String? {
        ((json?["blocks"] as? [[String: Any]])?.first { $0["type"] as? String == "header" }?["text"] as? [String: Any])?[
            "text"] as? String
    }
}

extension KafkaConsumerMessage {
    var deadLetter: DeadLetter? { value.flatMap { try? EventCodec.decodeDeadLetter(Array($0)) } }
}

/// GETs `url`; returns the status and body.
func get(_ url: String) async throws -> (status: Int, body: String) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// POSTs `body` to `url`; returns the status and body.
func post(_ url: String, _ body: [UInt8], headers: [String: String] = [:]) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = "POST"
    request.httpBody = Data(body)
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// An Alertmanager webhook body (version 4) for one group of alerts.
func alertmanagerPayload(
    status: String, groupKey: String = "{}:{alertname=\"DiskFull\"}", severity: String = "critical",
    alerts: [(fingerprint: String, status: String)] = [("f1", "firing")],
    summary: String = "Disk almost full", description: String = "Only 2% left"
) -> [UInt8] {
    let items: [[String: Any]] = alerts.map { alert in
        [
            "status": alert.status,
            "labels": ["alertname": "DiskFull", "severity": severity, "instance": "node-\(alert.fingerprint)"],
            "annotations": [
                "summary": summary, "description": description,
                "runbook_url": "https://example.com/RUNBOOK.md#diskfull",
            ],
            "startsAt": "2026-11-21T10:00:00Z",
            "endsAt": alert.status == "resolved" ? "2026-11-21T10:05:00Z" : "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": alert.fingerprint,
        ]
    }
    let body: [String: Any] = [
        "version": "4", "groupKey": groupKey, "status": status, "receiver": "notifier", "truncatedAlerts": 0,
        "groupLabels": ["alertname": "DiskFull"], "commonLabels": ["alertname": "DiskFull", "severity": severity],
        "commonAnnotations": ["summary": summary], "externalURL": "http://alertmanager:9093", "alerts": items,
        "someFutureField": ["ignored": true],
    ]
    return Array(try! JSONSerialization.data(withJSONObject: body))
}
