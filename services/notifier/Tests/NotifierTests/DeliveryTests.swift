// The notifier end to end on a development Kafka cluster and the Slack stand-in: anomalies
// and Alertmanager notifications become Slack messages, through errors, rate limits and
// restarts, with every alert accounted for.
import AlertronTesting
import Events
import Foundation
import Kafka
import MetricsTestKit
import SlackStandIn
import Testing
@testable import Notifier

@Suite(.timeLimit(.minutes(3))) struct DeliveryTests {
    @Test func burstsBecomeOneMessagePerDeviceAndRepeatedEventsCountOnce() async throws {
        let mesh = try TestMesh()
        let slack = SlackStandIn()
        try await slack.withServer { base in
            let metrics = TestMetrics()
            let notifier = try await RunningNotifier(
                mesh: mesh, settings: botSettings(base, window: .seconds(2)), metrics: metrics)
            let burst =
                (0..<12).map { index in anomaly("edge-3", score: index == 5 ? 0.93 : 0.7) }
                + (0..<3).map { _ in anomaly("edge-7") }
            try await mesh.send(burst)
            // The scorer repeats a batch after a crash: the same ids again.
            try await mesh.send(Array(burst.prefix(4)))
            try await eventually(30, "two messages") { slack.accepted.count >= 2 }
            // Everything read is settled (delivered or dropped as a repeat): no message can follow.
            try await eventually(30, "the repeats dropped and every offset stored") {
                metrics.total("alertron_notifier_duplicates_total", ("source", "anomalies")) == 4
                    && notifier.worker.pendingAlerts == 0
            }
            let messages = slack.accepted
            #expect(messages.count == 2)
            let edge3 = messages.first { $0.text?.contains("edge-3") == true }
            #expect(edge3?.text == "12 anomalies on edge-3 in under a second, worst score 0.93 critical")
            #expect(edge3?.alerts == 12)
            #expect(messages.first { $0.text?.contains("edge-7") == true }?.alerts == 3)
            #expect(messages.allSatisfy { $0.channel == "#alerts" && $0.method == "chat.postMessage" })
            try await eventually(10, "every offset stored") { notifier.worker.pendingAlerts == 0 }
            let stopped = await notifier.stop()
            #expect(throws: Never.self, "the notifier stops cleanly") { try stopped.get() }
        }
    }

    @Test func criticalLogLinesAreQuotedAndRoutedByTheirSeverity() async throws {
        let mesh = try TestMesh()
        let slack = SlackStandIn(configuration: .init(channels: ["#alerts", "#ops-critical"]))
        try await slack.withServer { base in
            var settings = botSettings(base)
            settings.channelRoutes = ["critical": "#ops-critical"]
            let notifier = try await RunningNotifier(mesh: mesh, settings: settings)
            try await mesh.send([
                criticalLog("db-1", "FATAL: could not write to file <pg_wal>: No space left on device"),
                anomaly("edge-1", severity: .warning),
            ])
            try await eventually(30, "two messages") { slack.accepted.count >= 2 }
            let log = slack.accepted.first { $0.channel == "#ops-critical" }
            #expect(log?.text == "1 critical log line from db-1 in under a second, worst probability 0.97 critical")
            let quoted = String(decoding: log?.body ?? [], as: UTF8.self)
            #expect(quoted.contains("No space left on device"))
            #expect(quoted.contains("&lt;pg_wal&gt;"), "text from events is escaped for mrkdwn")
            #expect(slack.accepted.first { $0.channel == "#alerts" }?.text?.contains("edge-1") == true)
            _ = await notifier.stop()
        }
    }

    @Test func serverErrorsThenRateLimitsEndInExactlyOneDeliveryAfterRetryAfter() async throws {
        let slack = SlackStandIn()
        slack.script([.init(status: 500), .init(status: 503), .init(status: 429, retryAfter: 2)])
        try await withNotifier(slack, settings: { webhookSettings($0) }) { mesh, notifier in
            try await mesh.send([anomaly("edge-1")])
            try await eventually(30, "a delivery") { !slack.accepted.isEmpty }
            try await Task.sleep(for: .seconds(1))
            let requests = slack.requests
            #expect(requests.map(\.status) == [500, 503, 429, 200])
            #expect(slack.accepted.count == 1)
            #expect(
                requests[3].receivedAt.timeIntervalSince(requests[2].receivedAt) >= 1.9, "Retry-After: 2 was respected")
            #expect(
                requests.allSatisfy { $0.method == "webhook" && $0.body == requests[3].body },
                "the same message each time")
            try await eventually(10, "the offset stored") { notifier.worker.pendingAlerts == 0 }
        }
    }

    @Test func aPermanentErrorDeadLettersTheMessageWithSlacksReasonAndMovesOn() async throws {
        let slack = SlackStandIn()
        slack.script([.init(error: "channel_not_found")])
        try await withNotifier(slack) { mesh, notifier in
            try await mesh.send([anomaly("edge-1")])
            let letters = try await mesh.read("anomalies.dlq", count: 1)
            let letter = try #require(letters.first?.deadLetter)
            #expect(letter.reasonCode == "slack_channel_not_found")
            #expect(letter.rejectedBy == "notifier")
            #expect(letter.sourceTopic == "anomalies")
            #expect(
                String(decoding: letter.payload, as: UTF8.self).contains("edge-1"),
                "the message as Slack would have got it")
            #expect(slack.requests.count == 1, "a permanent error is not retried")
            // The next alert goes out as usual.
            try await mesh.send([anomaly("edge-2")])
            try await eventually(30, "the next delivery") { slack.accepted.count == 1 }
            try await eventually(10, "both offsets stored") { notifier.worker.pendingAlerts == 0 }
        }
    }

    @Test func anEpisodeIsOneLivingMessageUpdatedInPlaceAndResolvedInItsThread() async throws {
        let slack = SlackStandIn(configuration: .init(token: "xoxb-test"))
        try await withNotifier(slack) { mesh, notifier in
            func episodeAnomaly(_ severity: Severity, channel: String, sigmas: Double) -> ScoredEvent {
                var scored = anomaly("pump-9", score: severity == .critical ? 0.9 : 0.6, severity: severity)
                scored.episode = EpisodeMark(id: "pump-9/r1", state: .continues)
                scored.explanation = Explanation(
                    detector: "shift",
                    channels: [
                        .init(name: channel, value: 80, expected: 60, spread: 2, sigmas: sigmas, detector: "shift")
                    ])
                return scored
            }
            try await mesh.send((0..<3).map { _ in episodeAnomaly(.warning, channel: "temperature", sigmas: 5) })
            try await eventually(30, "the first message") { slack.accepted.count == 1 }
            // More of the same: the message changes in place, nothing is said in its thread.
            try await mesh.send((0..<2).map { _ in episodeAnomaly(.warning, channel: "temperature", sigmas: 6) })
            try await eventually(30, "an update") { slack.accepted.count == 2 }
            // Worse, and another channel joins: an update and one reply.
            try await mesh.send([episodeAnomaly(.critical, channel: "pressure", sigmas: 9)])
            try await eventually(30, "an update and a reply") { slack.accepted.count == 4 }
            let closed = EpisodeClosed(
                ts: Timestamp.now(), deviceID: "pump-9", episodeID: "pump-9/r1", scoredAt: Timestamp.now())
            try await mesh.sendRaw([EventWriter.encode(closed)], key: "pump-9")
            try await eventually(30, "the resolution") { slack.accepted.count == 6 }
            try await eventually(10, "every offset stored") { notifier.worker.pendingAlerts == 0 }
            let requests = slack.accepted
            #expect(
                requests.map(\.method) == [
                    "chat.postMessage", "chat.update", "chat.update", "chat.postMessage", "chat.update",
                    "chat.postMessage",
                ])
            let ts = try #require(requests[0].ts)
            #expect(requests[1...].allSatisfy { $0.ts == ts || $0.threadTS == ts })
            #expect(requests[3].threadTS == ts && requests[3].text?.contains("severity rose to *critical*") == true)
            #expect(requests[3].text?.contains("pressure") == true)
            // Resolved: green, with what fired kept, and said once in the thread.
            #expect(requests[4].header?.hasPrefix("✅ 6 anomalies on pump-9") == true, "\(requests[4].header ?? "")")
            let resolved = String(decoding: requests[4].body, as: UTF8.self)
            #expect(resolved.contains("temperature peaked at 80.00") && resolved.contains("pressure peaked at 80.00"))
            #expect(requests[4].alerts == 6)
            #expect(requests[5].threadTS == ts && requests[5].text?.contains("Resolved") == true)
        }
    }

    @Test func anIncidentWhoseMessageWasDeletedGetsANewOneAndKeepsItsCount() async throws {
        let slack = SlackStandIn(configuration: .init(token: "xoxb-test"))
        let metrics = TestMetrics()
        try await withNotifier(slack, metrics: metrics) { mesh, notifier in
            func episodeAnomaly() -> ScoredEvent {
                var scored = anomaly("pump-4")
                scored.episode = EpisodeMark(id: "pump-4/r1", state: .continues)
                return scored
            }
            try await mesh.send([episodeAnomaly(), episodeAnomaly()])
            try await eventually(30, "the first message") { slack.accepted.count == 1 }
            let deleted = try #require(slack.accepted.first?.ts)
            slack.deleteMessage(ts: deleted)
            try await mesh.send([episodeAnomaly()])
            try await eventually(30, "a new message") { slack.accepted.count == 2 }
            #expect(slack.requests.contains { $0.method == "chat.update" && $0.error == "message_not_found" })
            let replacement = slack.accepted[1]
            #expect(replacement.method == "chat.postMessage" && replacement.ts != deleted && replacement.alerts == 3)
            #expect(metrics.total("alertron_notifier_messages_total", ("outcome", "reposted")) == 1)
            #expect(
                metrics.counters(label: "alertron_notifier_dead_letters_total").allSatisfy { $0.totalValue == 0 },
                "nothing dead-lettered")
            // The next alert updates the new message.
            try await mesh.send([episodeAnomaly()])
            try await eventually(30, "an update of the new message") { slack.accepted.count == 3 }
            #expect(slack.accepted[2].method == "chat.update" && slack.accepted[2].ts == replacement.ts)
            try await eventually(10, "every offset stored") { notifier.worker.pendingAlerts == 0 }
        }
    }

    @Test func anEpisodesEndIsCountedNotSentAndItsOffsetStored() async throws {
        let slack = SlackStandIn()
        let metrics = TestMetrics()
        try await withNotifier(slack, metrics: metrics) { mesh, notifier in
            let closed = EpisodeClosed(
                ts: Timestamp.now(), deviceID: "edge-4", episodeID: "edge-4/r9", scoredAt: Timestamp.now())
            try await mesh.sendRaw([EventWriter.encode(closed)], key: "edge-4")
            try await mesh.send([anomaly("edge-4")])
            try await eventually(30, "the anomaly's message") { slack.accepted.count == 1 }
            try await eventually(10, "both offsets stored") { notifier.worker.pendingAlerts == 0 }
            #expect(metrics.total("alertron_notifier_episodes_closed_total") == 1)
            #expect(metrics.counters(label: "alertron_notifier_dead_letters_total").allSatisfy { $0.totalValue == 0 })
            #expect(slack.accepted.first?.text?.contains("1 anomaly on edge-4") == true)
        }
    }

    @Test func unreadableEventsAreDeadLetteredWithTheReason() async throws {
        let slack = SlackStandIn()
        try await withNotifier(slack) { mesh, notifier in
            try await mesh.sendRaw([Array("not json".utf8), Array(#"{"schema":1,"kind":"reading"}"#.utf8)])
            try await mesh.sendRaw([Array(#"{"version":"4","alerts":[]}"#.utf8)], topic: "alertmanager")
            let letters = try await mesh.read("anomalies.dlq", count: 2).compactMap(\.deadLetter)
            #expect(letters.count == 2)
            #expect(letters.allSatisfy { !$0.reason.isEmpty && $0.rejectedBy == "notifier" })
            let alertmanager = try await mesh.read("alertmanager.dlq", count: 1).compactMap(\.deadLetter)
            #expect(alertmanager.first?.reasonCode == "invalid_payload")
            #expect(alertmanager.first?.reason == "missing field groupKey")
            try await eventually(10, "the offsets stored") { notifier.worker.pendingAlerts == 0 }
            #expect(slack.requests.isEmpty)
        }
    }

    @Test func aSlackOutageAcrossARestartLosesNothing() async throws {
        let mesh = try TestMesh()
        let slack = SlackStandIn()
        slack.script([.init(status: 500, times: 1000)])
        try await slack.withServer { base in
            var settings = botSettings(base, window: .milliseconds(100))
            settings.drainTimeout = .milliseconds(500)
            let first = try await RunningNotifier(mesh: mesh, settings: settings)
            try await mesh.send((0..<5).map { anomaly("edge-\($0)") })
            try await eventually(30, "the outage to be hit") { slack.requests.count >= 3 }
            // Shut down during the outage: nothing was delivered, so no offset may be committed.
            #expect(first.worker.pendingAlerts == 5)
            _ = await first.stop()
            #expect(slack.accepted.isEmpty)
            slack.reset()
            // Slack is back; the next notifier in the same group gets all five.
            let second = try await RunningNotifier(mesh: mesh, settings: settings)
            try await eventually(40, "five alerts delivered") { slack.accepted.reduce(0) { $0 + $1.alerts } >= 5 }
            let devices = Set(
                slack.accepted.compactMap(\.text).compactMap {
                    $0.split(separator: " ").dropFirst(3).first.map(String.init)
                })
            #expect(devices == Set((0..<5).map { "edge-\($0)" }))
            _ = await second.stop()
        }
    }

    @Test func aMessageBeyondSlacksLimitsIsTruncatedNotRejected() async throws {
        let slack = SlackStandIn()
        try await withNotifier(slack) { mesh, notifier in
            let huge = String(repeating: "disk nearly full on a very long hostname ", count: 150)
            let alerts = (0..<60).map { (fingerprint: "f\($0)", status: "firing") }
            let response = try await post(
                "http://127.0.0.1:\(notifier.port)/v1/alertmanager",
                alertmanagerPayload(status: "firing", alerts: alerts, summary: huge, description: huge))
            #expect(response.status == 200)
            try await eventually(30, "a message") { !slack.requests.isEmpty }
            let request = slack.requests[0]
            #expect(request.accepted, "the stand-in checks Slack's limits: \(request.error ?? "")")
            #expect(request.header?.hasSuffix(SlackMessage.truncationMarker) == true)
            #expect((request.json?["blocks"] as? [Any])?.count ?? 0 <= SlackMessage.Limits.blocks)
            #expect(request.alerts == 60)
        }
    }

    @Test func withNoSlackTheMessagesGoToTheLocalSinkFile() async throws {
        let mesh = try TestMesh()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(EventID.generate()).jsonl")
            .path
        var settings = NotifierSettings()
        settings.slackSinkFile = path
        settings.groupWindow = .milliseconds(200)
        settings.consumerGroup = "notifier-\(EventID.generate())"
        let notifier = try await RunningNotifier(mesh: mesh, settings: settings)
        try await mesh.send([anomaly("edge-9"), anomaly("edge-9")])
        try await eventually(30, "a line in the sink") {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("\n")
        }
        let line = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first)
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(entry["method"] as? String == "chat.postMessage")
        #expect(entry["channel"] as? String == "#alerts")
        let payload = try #require(entry["payload"] as? [String: Any])
        #expect((payload["text"] as? String)?.hasPrefix("2 anomalies on edge-9") == true)
        #expect((payload["blocks"] as? [Any])?.isEmpty == false)
        _ = await notifier.stop()
    }
}
