// Buttons, end to end: the stand-in presses a button on a message it really holds and signs the
// request as Slack does; the notifier verifies it, writes the verdict to `feedback` (a real
// broker), reads it back as the incident's owner and shows it on the message. Requests that are
// unsigned, forged or replayed change nothing.
import AlertronTesting
import Events
import Foundation
import Kafka
import MetricsTestKit
import SlackStandIn
import Telemetry
import Testing
@testable import Notifier

/// A bot-mode notifier whose buttons are on, the stand-in knowing where to send clicks.
private func interactive(_ slack: SlackStandIn, secret: String = "s3cret") -> @Sendable (String) -> NotifierSettings {
    { base in
        var settings = botSettings(base)
        settings.slackSigningSecret = secret
        return settings
    }
}

private func standIn(secret: String = "s3cret") -> SlackStandIn {
    var configuration = SlackStandIn.Configuration(token: "xoxb-test")
    configuration.signingSecret = secret
    return SlackStandIn(configuration: configuration)
}

/// An anomaly of `device`'s episode `episode`.
private func episodeAnomaly(_ device: String, episode: String, channel: String = "vibration") -> ScoredEvent {
    var scored = anomaly(device, score: 0.8, severity: .critical)
    scored.episode = EpisodeMark(id: episode, state: .continues)
    scored.explanation = Explanation(
        detector: "spike",
        channels: [.init(name: channel, value: 0.05, expected: 0.02, spread: 0.003, sigmas: 10, detector: "spike")])
    return scored
}

private func buttonValue(_ request: SlackStandIn.RecordedRequest?) -> String? {
    let blocks = request?.json?["blocks"] as? [[String: Any]] ?? []
    let buttons = blocks.filter { $0["type"] as? String == "actions" }.flatMap {
        $0["elements"] as? [[String: Any]] ?? []
    }
    return buttons.first?["value"] as? String
}

@Suite(.timeLimit(.minutes(3))) struct InteractionTests {
    @Test func aSignedAcknowledgementShowsWhoIsOnItAndForgedOrReplayedClicksChangeNothing() async throws {
        let slack = standIn()
        let metrics = TestMetrics()
        try await withNotifier(slack, settings: interactive(slack), metrics: metrics) { mesh, notifier in
            slack.interactionsURL = URL(string: "http://127.0.0.1:\(notifier.port)/slack/interactions")
            try await mesh.send([episodeAnomaly("edge-1", episode: "edge-1/r1")])
            try await eventually(30, "the incident's message") { slack.accepted.count == 1 }
            let value = try #require(buttonValue(slack.accepted.first))
            let actions = (slack.accepted[0].json?["blocks"] as? [[String: Any]])?.last?["elements"] as? [[String: Any]]
            #expect(
                actions?.map { $0["action_id"] as? String } == [
                    "ack", "silence_1h", "silence_1d", "not_anomaly", "resolve",
                ])

            for signing in [SlackStandIn.Signing.unsigned, .forged, .stale] {
                let answer = try await slack.click(action: "ack", value: value, signing: signing)
                #expect(answer.status == 401, "\(signing): \(answer.body)")
            }
            for reason in ["unsigned", "forged", "stale"] {
                #expect(metrics.total("alertron_notifier_interactions_refused_total", ("reason", reason)) == 1)
            }
            try await Task.sleep(for: .seconds(1))
            #expect(slack.accepted.count == 1, "a refused click changes nothing")

            #expect(try await slack.click(action: "ack", value: value).status == 200)
            try await eventually(30, "the acknowledgement shown") { slack.accepted.count == 3 }
            let update = slack.accepted[1]
            #expect(update.method == "chat.update" && update.ts == slack.accepted[0].ts)
            let body = String(decoding: update.body, as: UTF8.self)
            #expect(body.contains("Acknowledged by <@\(SlackStandIn.defaultUser.id)>"), "\(body)")
            // Acknowledged: its button is gone, the others stay.
            let buttons = (update.json?["blocks"] as? [[String: Any]])?.last?["elements"] as? [[String: Any]]
            #expect(
                buttons?.map { $0["action_id"] as? String } == ["silence_1h", "silence_1d", "not_anomaly", "resolve"])
            #expect(slack.accepted[2].threadTS == slack.accepted[0].ts)
            #expect(
                metrics.total("alertron_notifier_verdicts_total", ("verdict", "acknowledged"), ("outcome", "applied"))
                    == 1)
            try await eventually(10, "every offset stored") { notifier.worker.pendingAlerts == 0 }
        }
    }

    @Test func withoutASigningSecretTheRouteIsOffAndMessagesHaveNoButtons() async throws {
        let slack = SlackStandIn()
        try await withNotifier(slack) { mesh, notifier in
            let answer = try await post(
                "http://127.0.0.1:\(notifier.port)/slack/interactions", Array("payload={}".utf8))
            #expect(answer.status == 404)
            try await mesh.send([episodeAnomaly("edge-1", episode: "edge-1/r1")])
            try await eventually(30, "the incident's message") { slack.accepted.count == 1 }
            #expect(buttonValue(slack.accepted.first) == nil)
        }
    }

    @Test func notAnAnomalyReachesTheFeedbackTopicAndResolvesTheIncident() async throws {
        let slack = standIn()
        try await withNotifier(slack, settings: interactive(slack)) { mesh, notifier in
            slack.interactionsURL = URL(string: "http://127.0.0.1:\(notifier.port)/slack/interactions")
            try await mesh.send((0..<3).map { _ in episodeAnomaly("pump-3", episode: "pump-3/r7") })
            try await eventually(30, "the incident's message") { slack.accepted.count == 1 }
            let value = try #require(buttonValue(slack.accepted.first))
            #expect(try await slack.click(action: "not_anomaly", value: value).status == 200)
            let feedback = try await mesh.read(Topic.feedback, count: 1)
            let verdict = try EventCodec.decodeFeedback(Array(try #require(feedback.first?.value)))
            #expect(verdict.verdict == .notAnomaly && verdict.subject == .device("pump-3"))
            #expect(verdict.episodeID == "pump-3/r7" && verdict.user == SlackStandIn.defaultUser.id)
            #expect(!verdict.readings.isEmpty)
            #expect(
                feedback.first?.key.map { String(decoding: $0, as: UTF8.self) } == "pump-3", "keyed as the readings are"
            )
            try await eventually(30, "the incident resolved by hand") { slack.accepted.count == 3 }
            let body = String(decoding: slack.accepted[1].body, as: UTF8.self)
            #expect(body.contains("not an anomaly") && slack.accepted[1].header?.hasPrefix("✅") == true, "\(body)")
        }
    }

    @Test func aSilencedDeviceIsMutedForItsDurationAcrossNewEpisodes() async throws {
        let slack = standIn()
        let metrics = TestMetrics()
        try await withNotifier(slack, settings: interactive(slack), metrics: metrics) { mesh, notifier in
            slack.interactionsURL = URL(string: "http://127.0.0.1:\(notifier.port)/slack/interactions")
            try await mesh.send([episodeAnomaly("edge-5", episode: "edge-5/r1")])
            try await eventually(30, "the incident's message") { slack.accepted.count == 1 }
            let value = try #require(buttonValue(slack.accepted.first))
            #expect(try await slack.click(action: "silence_1h", value: value).status == 200)
            try await eventually(30, "the silence shown") { slack.accepted.count == 3 }
            #expect(String(decoding: slack.accepted[1].body, as: UTF8.self).contains("muted"))
            // A new episode of the muted device: counted, not sent; another device still pages.
            try await mesh.send([
                episodeAnomaly("edge-5", episode: "edge-5/r9"), episodeAnomaly("edge-6", episode: "edge-6/r1"),
            ])
            try await eventually(30, "the other device's message") { slack.accepted.count == 4 }
            try await eventually(10, "the muted alert counted") { metrics.total("alertron_notifier_muted_total") == 1 }
            #expect(slack.accepted[3].text?.contains("edge-6") == true)
            // The mute is durable: it is in the incidents topic.
            let records = try await mesh.read(Topic.notifierIncidents, count: 1, settle: 1)
            #expect(records.contains { $0.key.map { String(decoding: $0, as: UTF8.self) } == "mute:device:edge-5" })
            try await eventually(10, "every offset stored") { notifier.worker.pendingAlerts == 0 }
        }
    }

    @Test func aRestartedNotifierUpdatesTheMessageItPostedBefore() async throws {
        let mesh = try TestMesh()
        let slack = SlackStandIn(configuration: .init(token: "xoxb-test"))
        try await slack.withServer { base in
            let settings = botSettings(base)
            let first = try await RunningNotifier(mesh: mesh, settings: settings)
            try await mesh.send([episodeAnomaly("edge-8", episode: "edge-8/r1")])
            try await eventually(30, "the incident's message") { slack.accepted.count == 1 }
            try await eventually(10, "its offset stored") { first.worker.pendingAlerts == 0 }
            _ = await first.stop()
            // A new process: nothing in memory, the same group and topics.
            let second = try await RunningNotifier(mesh: mesh, settings: settings)
            let closed = EpisodeClosed(
                ts: Timestamp.now(), deviceID: "edge-8", episodeID: "edge-8/r1", scoredAt: Timestamp.now())
            try await mesh.sendRaw([EventWriter.encode(closed)], key: "edge-8")
            try await eventually(30, "the resolution") { slack.accepted.count == 3 }
            #expect(slack.accepted[1].method == "chat.update" && slack.accepted[1].ts == slack.accepted[0].ts)
            #expect(slack.accepted[2].threadTS == slack.accepted[0].ts)
            _ = await second.stop()
        }
    }

    @Test func withTwoReplicasTheOwnerOfEachIncidentActsOnClicksThatReachEither() async throws {
        let mesh = try TestMesh()
        let slack = standIn()
        try await slack.withServer { base in
            var settings = botSettings(base)
            settings.slackSigningSecret = "s3cret"
            // Twelve devices at once stay twelve incidents (not a fleet-wide digest).
            settings.digestThreshold = 50
            let first = try await RunningNotifier(mesh: mesh, settings: settings)
            @Sendable func partitions(_ notifier: RunningNotifier, of topic: String) async -> [Int32] {
                await notifier.worker.consumer.assignment().filter { $0.topic == topic }.map(\.partition).sorted()
            }
            try await eventually(20, "the first replica to own every partition") {
                await partitions(first, of: Topic.anomalies).count == 3
            }
            let second = try await RunningNotifier(mesh: mesh, settings: settings)
            try await eventually(40, "the partitions shared") {
                let mine = await partitions(first, of: Topic.anomalies)
                let theirs = await partitions(second, of: Topic.anomalies)
                return !mine.isEmpty && !theirs.isEmpty && mine.count + theirs.count == 3
            }
            // Each replica owns the same partition numbers of every topic it reads.
            for replica in [first, second] {
                let anomalies = await partitions(replica, of: Topic.anomalies)
                #expect(await partitions(replica, of: Topic.feedback) == anomalies)
                #expect(await partitions(replica, of: Topic.alertmanager) == anomalies)
            }
            // Every click goes to the first replica's HTTP route, as a load balancer might send it.
            slack.interactionsURL = URL(string: "http://127.0.0.1:\(first.port)/slack/interactions")
            let devices = (0..<12).map { "edge-\($0)" }
            try await mesh.send(devices.map { episodeAnomaly($0, episode: "\($0)/r1") })
            try await eventually(30, "a message per device") { slack.accepted.count == devices.count }
            #expect(first.worker.finishedJobs > 0 && second.worker.finishedJobs > 0, "both replicas own incidents")
            for request in slack.accepted {
                let value = try #require(buttonValue(request))
                #expect(try await slack.click(action: "ack", value: value).status == 200)
            }
            try await eventually(30, "every incident acknowledged by its owner") {
                slack.latestMessages.filter { String(decoding: $0.body, as: UTF8.self).contains("Acknowledged by") }
                    .count
                    == devices.count
            }
            #expect(slack.latestMessages.count == devices.count, "no second message for any incident")
            _ = await second.stop()
            _ = await first.stop()
        }
    }
}
