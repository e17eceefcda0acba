// The real Alertmanager from Debian posts to the notifier's webhook with a bearer token read
// from a file; its firing and resolved notifications reach the Slack stand-in.
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

    @Test func alertmanagerFiresAndResolvesThroughTheNotifierToSlack() async throws {
        let mesh = try TestMesh()
        let slack = SlackStandIn()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("am-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await slack.withServer { base in
            var settings = botSettings(base)
            settings.webhookToken = "am-token"
            let notifier = try await RunningNotifier(mesh: mesh, settings: settings)
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
                  - url: http://127.0.0.1:\(notifier.port)/v1/alertmanager
                    send_resolved: true
                    http_config:
                      authorization:
                        credentials_file: \(directory.appendingPathComponent("token").path)
            """.write(to: directory.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
            let port = try freePort()
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
            defer { alertmanager.terminate(); alertmanager.waitUntilExit() }
            let api = "http://127.0.0.1:\(port)/api/v2/alerts"
            try await eventually(20, "alertmanager to be ready") {
                (try? await get("http://127.0.0.1:\(port)/-/ready"))?.status == 200
            }

            let alert: [String: Any] = [
                "labels": ["alertname": "HighAnomalyRate", "severity": "critical"],
                "annotations": ["summary": "Fleet anomaly rate is high"],
            ]
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
}
