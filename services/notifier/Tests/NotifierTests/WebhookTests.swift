// POST /v1/alertmanager: the token, clear 4xx answers for what a retry cannot fix, and a 200
// only once the notification is stored in Kafka; Alertmanager's repeats count once.
import AlertronTesting
import Foundation
import Kafka
import SlackStandIn
import Testing
@testable import Notifier

@Suite(.timeLimit(.minutes(3))) struct WebhookTests {
    @Test func theTokenIsRequiredAndWhatIsWrongIsSaid() async throws {
        let mesh = try TestMesh()
        let slack = SlackStandIn()
        try await slack.withServer { base in
            var settings = botSettings(base)
            settings.webhookToken = "s3cret"
            settings.maxWebhookBytes = 64 * 1024
            let notifier = try await RunningNotifier(mesh: mesh, settings: settings)
            let url = "http://127.0.0.1:\(notifier.port)/v1/alertmanager"
            let body = alertmanagerPayload(status: "firing")

            let missing = try await post(url, body)
            #expect(missing.status == 401)
            #expect(missing.body.contains("NOTIFIER_WEBHOOK_TOKEN"))
            #expect(!missing.body.contains("s3cret"))
            #expect(try await post(url, body, headers: ["Authorization": "Bearer wrong"]).status == 401)

            let authorized = ["Authorization": "Bearer s3cret"]
            let malformed = try await post(url, Array(#"{"status":"firing"}"#.utf8), headers: authorized)
            #expect(malformed.status == 400)
            #expect(malformed.body.contains("missing field groupKey"))
            #expect(
                try await post(url, Array(repeating: UInt8(ascii: " "), count: 65 * 1024), headers: authorized).status
                    == 413)

            let accepted = try await post(url, body, headers: authorized)
            #expect(accepted.status == 200)
            let stored = try await mesh.read("alertmanager", count: 1)
            #expect(
                stored.first.flatMap(\.key).map { String(decoding: $0, as: UTF8.self) } == #"{}:{alertname="DiskFull"}"#
            )
            #expect(stored.first?.value.map(Array.init) == body)
            _ = await notifier.stop()
        }
    }

    @Test func alertmanagerRepeatsAreOneMessageAndAResolveUpdatesTheOriginalInItsThread() async throws {
        let slack = SlackStandIn()
        try await withNotifier(slack) { mesh, notifier in
            let url = "http://127.0.0.1:\(notifier.port)/v1/alertmanager"
            for _ in 0..<3 { #expect(try await post(url, alertmanagerPayload(status: "firing")).status == 200) }
            try await eventually(30, "the firing message") { !slack.accepted.isEmpty }
            #expect(
                try await post(url, alertmanagerPayload(status: "resolved", alerts: [("f1", "resolved")])).status == 200
            )
            try await eventually(30, "the update and the reply") { slack.accepted.count >= 3 }
            // Everything read is settled: no message can follow.
            try await eventually(30, "every offset stored") { notifier.worker.pendingAlerts == 0 }
            let requests = slack.accepted
            #expect(requests.map(\.method) == ["chat.postMessage", "chat.update", "chat.postMessage"])
            let original = try #require(requests[0].ts)
            #expect(requests[0].text == "[FIRING:1] DiskFull: Disk almost full")
            #expect(requests[1].ts == original)
            // The update and the reply name the channel by the ID chat.postMessage answered: Slack
            // refuses its name there (channel_not_found), and so does the stand-in.
            let channel = try #require(requests[0].channelID)
            #expect(requests[0].channel != channel && requests[1].channel == channel && requests[2].channel == channel)
            #expect(slack.requests.count == 3, "nothing was refused: \(slack.requests.compactMap(\.error))")
            #expect(requests[1].header?.hasPrefix("✅ [RESOLVED:1] DiskFull") == true)
            #expect(requests[2].threadTS == original)
            #expect(requests[2].text?.hasPrefix("✅ *Resolved* after") == true, "\(requests[2].text ?? "")")
            #expect(requests[2].text?.contains("Alertmanager resolved it") == true)
            try await eventually(10, "the offsets stored") { notifier.worker.pendingAlerts == 0 }
        }
    }

    @Test func withAnIncomingWebhookAResolveIsANewMessage() async throws {
        let slack = SlackStandIn()
        try await withNotifier(slack, settings: { webhookSettings($0) }) { mesh, notifier in
            let url = "http://127.0.0.1:\(notifier.port)/v1/alertmanager"
            #expect(try await post(url, alertmanagerPayload(status: "firing")).status == 200)
            #expect(
                try await post(url, alertmanagerPayload(status: "resolved", alerts: [("f1", "resolved")])).status == 200
            )
            try await eventually(30, "two messages") { slack.accepted.count >= 2 }
            #expect(slack.accepted.map(\.method) == ["webhook", "webhook"])
            #expect(
                slack.accepted.map { $0.text ?? "" } == [
                    "[FIRING:1] DiskFull: Disk almost full", "[RESOLVED:1] DiskFull: Disk almost full",
                ])
            #expect(slack.accepted.allSatisfy { $0.json?["channel"] == nil }, "a webhook posts where it was made")
        }
    }
}
