// The real Alertmanager from Debian posts to the notifier's webhook with a bearer token read
// from a file; its firing and resolved notifications reach the Slack stand-in; a Silence
// button creates a real silence in it (checked with Debian's amtool).
import AlertronTesting
import Foundation
import SlackStandIn
import Testing
@testable import Notifier
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite(.ownThread, .timeLimit(.minutes(3))) struct AlertmanagerProcessTests {
    static let binary = "/usr/bin/prometheus-alertmanager"

    /// A running Alertmanager that notifies the notifier on `notifierPort`; stopped by `stop`.
    struct RunningAlertmanager {
        let process: Process
        let port: Int
        let directory: URL

        var url: String { "http://127.0.0.1:\(port)" }

        func stop() {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func startAlertmanager(notifierPort: Int, port: Int? = nil) async throws -> RunningAlertmanager {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("am-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "am-token\n".write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try """
        route:
          receiver: notifier
          group_by: [alertname]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: notifier
            webhook_configs:
              - url: http://127.0.0.1:\(notifierPort)/v1/alertmanager
                send_resolved: true
                http_config:
                  authorization:
                    credentials_file: \(directory.appendingPathComponent("token").path)
        """.write(to: directory.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
        let port = try port ?? freePort()
        let alertmanager = Process()
        alertmanager.executableURL = URL(fileURLWithPath: Self.binary)
        alertmanager.arguments = [
            "--config.file=\(directory.appendingPathComponent("alertmanager.yml").path)",
            "--storage.path=\(directory.path)", "--web.listen-address=127.0.0.1:\(port)",
            "--cluster.listen-address=",
        ]
        alertmanager.standardOutput = FileHandle.nullDevice
        alertmanager.standardError = FileHandle.nullDevice
        try alertmanager.run()
        try await eventually(20, "alertmanager to be ready") {
            (try? await get("http://127.0.0.1:\(port)/-/ready"))?.status == 200
        }
        return RunningAlertmanager(process: alertmanager, port: port, directory: directory)
    }

    nonisolated(unsafe) static let highAnomalyRate: [String: Any] = [
        "labels": ["alertname": "HighAnomalyRate", "severity": "critical"],
        "annotations": ["summary": "Fleet anomaly rate is high"],
    ]

    @Test func alertmanagerFiresAndResolvesThroughTheNotifierToSlack() async throws {
        let mesh = try TestMesh()
        let slack = SlackStandIn()
        try await slack.withServer { base in
            var settings = botSettings(base)
            settings.webhookToken = "am-token"
            let notifier = try await RunningNotifier(mesh: mesh, settings: settings)
            let alertmanager = try await Self.startAlertmanager(notifierPort: notifier.port)
            defer { alertmanager.stop() }
            let api = alertmanager.url + "/api/v2/alerts"

            let alert = Self.highAnomalyRate
            let firing = try JSONSerialization.data(withJSONObject: [alert])
            #expect(try await post(api, Array(firing), headers: ["Content-Type": "application/json"]).status == 200)
            try await eventually(30, "the firing message") { !slack.accepted.isEmpty }
            #expect(slack.accepted[0].text == "[FIRING:1] HighAnomalyRate: Fleet anomaly rate is high")

            var ended = alert
            ended["endsAt"] = ISO8601DateFormatter().string(from: Date())
            let resolved = try JSONSerialization.data(withJSONObject: [ended])
            #expect(try await post(api, Array(resolved), headers: ["Content-Type": "application/json"]).status == 200)
            try await eventually(30, "the resolve") { slack.accepted.count >= 3 }
            let requests = slack.accepted
            #expect(requests[1].method == "chat.update")
            #expect(requests[1].ts == requests[0].ts)
            #expect(requests[2].threadTS == requests[0].ts)
            // Every webhook call carried the token (a 401 would have been retried, never delivered).
            _ = await notifier.stop()
        }
    }

    @Test func aSilenceButtonCreatesARealSilenceInAlertmanagerAndAnOutageIsToldToWhoClicked() async throws {
        let mesh = try TestMesh()
        var configuration = SlackStandIn.Configuration(token: "xoxb-test")
        configuration.signingSecret = "s3cret"
        let slack = SlackStandIn(configuration: configuration)
        let alertmanagerPort = try freePort()
        try await slack.withServer { base in
            var settings = botSettings(base)
            (settings.webhookToken, settings.slackSigningSecret) = ("am-token", "s3cret")
            settings.alertmanagerURL = URL(string: "http://127.0.0.1:\(alertmanagerPort)")
            let notifier = try await RunningNotifier(mesh: mesh, settings: settings)
            slack.interactionsURL = URL(string: "http://127.0.0.1:\(notifier.port)/slack/interactions")
            let alertmanager = try await Self.startAlertmanager(notifierPort: notifier.port, port: alertmanagerPort)
            let firing = try JSONSerialization.data(withJSONObject: [Self.highAnomalyRate])
            let api = alertmanager.url + "/api/v2/alerts"
            #expect(try await post(api, Array(firing), headers: ["Content-Type": "application/json"]).status == 200)
            try await eventually(30, "the firing message") { !slack.accepted.isEmpty }
            let blocks = slack.accepted[0].json?["blocks"] as? [[String: Any]] ?? []
            let buttons = blocks.last?["elements"] as? [[String: Any]] ?? []
            #expect(buttons.map { $0["action_id"] as? String } == ["ack", "silence_1h", "silence_1d", "resolve"])
            let value = try #require(buttons.first?["value"] as? String)

            #expect(try await slack.click(action: "silence_1h", value: value).status == 200)
            try await eventually(30, "the silence shown on the message") {
                slack.accepted.contains {
                    String(decoding: $0.body, as: UTF8.self).contains("Silenced in Alertmanager")
                }
            }
            // Alertmanager has it: amtool, Debian's own client, lists it.
            let query = Process()
            query.executableURL = URL(fileURLWithPath: "/usr/bin/amtool")
            query.arguments = ["silence", "query", "--alertmanager.url=\(alertmanager.url)", "-o", "json"]
            let output = Pipe()
            query.standardOutput = output
            try query.run()
            let listing = output.fileHandleForReading.readDataToEndOfFile()
            query.waitUntilExit()
            let silences = try #require(try JSONSerialization.jsonObject(with: listing) as? [[String: Any]])
            #expect(silences.count == 1)
            let silence = try #require(silences.first)
            #expect(silence["createdBy"] as? String == SlackStandIn.defaultUser.id)
            #expect((silence["comment"] as? String)?.contains("https://slack.com/archives/") == true)
            let matchers = silence["matchers"] as? [[String: Any]] ?? []
            #expect(
                matchers.contains {
                    $0["name"] as? String == "alertname" && $0["value"] as? String == "HighAnomalyRate"
                })
            let ends = try #require(
                (silence["endsAt"] as? String).flatMap {
                    ISO8601DateFormatter().date(from: String($0.prefix(19)) + "Z")
                })
            #expect(abs(ends.timeIntervalSinceNow - 3600) < 120, "silenced for an hour")

            // Alertmanager down: whoever clicked is told (only they see it), and it is retried.
            alertmanager.stop()
            #expect(try await slack.click(action: "silence_1d", value: value).status == 200)
            try await eventually(30, "an ephemeral error") {
                slack.accepted.contains { $0.method == "chat.postEphemeral" }
            }
            let told = try #require(slack.accepted.first { $0.method == "chat.postEphemeral" })
            #expect(told.json?["user"] as? String == SlackStandIn.defaultUser.id)
            #expect(told.text?.contains("Retrying") == true, "\(told.text ?? "")")
            #expect(notifier.worker.pendingAlerts > 0, "the click's offset waits for the silence")
            // Back up on the same port: the retry creates the silence.
            let restarted = try await Self.startAlertmanager(notifierPort: notifier.port, port: alertmanagerPort)
            defer { restarted.stop() }
            try await eventually(60, "the retried silence") {
                let answer = try? await get(restarted.url + "/api/v2/silences")
                return answer?.body.contains(SlackStandIn.defaultUser.id) == true
            }
            try await eventually(30, "every offset stored") { notifier.worker.pendingAlerts == 0 }
            _ = await notifier.stop()
        }
    }
}
