// Fault: Slack answers 500, then 429 with Retry-After, while two waves of anomalies arrive (the
// second repeating 30 ids of the first, as a scorer that scored a batch twice would). Once Slack
// recovers, every alert is in exactly one delivered message, per subject and in total, the
// repeats are dropped by id, and nothing is dead-lettered.
import AlertronTesting
import Events
import Foundation
import MetricsTestKit
import SlackStandIn
import Telemetry
import Testing
@testable import Notifier

@Suite(.serialized, .timeLimit(.minutes(3))) struct SlackFailureFaultTests {
    @Test func afterServerErrorsAndRateLimitsEveryAlertIsDeliveredExactlyOnce() async throws {
        let (devices, perDevice, perSource, repeats) = (4, 30, 10, 30)
        let (failures500, failures429) = (4, 3)
        var waves: [[ScoredEvent]] = [[], []]
        var expected: [String: Int] = [:]
        for device in 1...devices {
            let name = "fault-edge-\(device)"
            expected[name] = perDevice
            for n in 0..<perDevice {
                let severity: Severity = n % 3 == 0 ? .critical : .warning
                waves[n * 2 / perDevice].append(
                    anomaly(name, id: "r\(device)-\(n)", score: 0.7 + Double(n % 20) / 100, severity: severity))
            }
        }
        expected["fault-db-1"] = perSource
        for n in 0..<perSource {
            waves[n * 2 / perSource].append(
                criticalLog("fault-db-1", "EXT4-fs error (device sda\(n % 4)): remounting read-only", id: "l1-\(n)"))
        }
        waves[1] += waves[0].prefix(repeats)
        let (first, second, want) = (waves[0], waves[1], expected)
        let total = expected.values.reduce(0, +)

        let mesh = try TestMesh()
        let slack = SlackStandIn()
        slack.script([.init(status: 500, times: failures500), .init(status: 429, retryAfter: 2, times: failures429)])
        let metrics = TestMetrics()
        try await slack.withServer { base in
            let notifier = try await RunningNotifier(
                mesh: mesh, settings: botSettings(base, window: .seconds(2)), metrics: metrics)
            try await mesh.send(first)
            // The second wave arrives while Slack is still failing.
            try await eventually(30, "Slack's first failures") { slack.requests.count >= 2 }
            try await mesh.send(second)

            // Delivered alerts, counted from each accepted message's metadata, until they reach the
            // total and stay there for 3 s (so a late duplicate would still be seen).
            let progress = Mutexed((last: -1, since: ContinuousClock.now))
            try await eventually(120, "\(total) alerts delivered and settled") {
                let delivered = slack.latestMessages.reduce(0) { $0 + $1.alerts }
                return progress.withLock { progress in
                    if delivered != progress.last { progress = (delivered, .now) }
                    return delivered >= total && ContinuousClock.now - progress.since >= .seconds(3)
                }
            }
            let posts = slack.requests.filter { $0.method == "chat.postMessage" }
            #expect(posts.filter { $0.status == 500 }.count == failures500, "the 500s happened")
            #expect(posts.filter { $0.status == 429 }.count == failures429, "the 429s happened")
            var perSubject: [String: Int] = [:]
            // Each incident's message counts its alerts as it grows: its latest state holds them all.
            for message in slack.latestMessages {
                let subjects =
                    (message.json?["metadata"] as? [String: Any]).flatMap { $0["event_payload"] as? [String: Any] }?[
                        "subjects"]
                    as? [String] ?? []
                #expect(subjects.count == 1, "no digest: per-subject counts stay checkable")
                if let subject = subjects.first { perSubject[subject, default: 0] += message.alerts }
            }
            #expect(perSubject == want, "every alert exactly once per subject")
            #expect(slack.latestMessages.reduce(0) { $0 + $1.alerts } == total)
            #expect(slack.latestMessages.count == want.count, "one message per incident")
            #expect(
                metrics.total("alertron_notifier_duplicates_total", ("source", "anomalies"))
                    == Int64(repeats))
            #expect(metrics.counters(label: "alertron_notifier_dead_letters_total").allSatisfy { $0.totalValue == 0 })
            #expect(
                metrics.total("alertron_notifier_slack_retries_total", ("reason", "rate_limited")) == Int64(failures429)
            )
            try await eventually(10, "every offset stored") { notifier.worker.pendingAlerts == 0 }
            _ = await notifier.stop()
        }
    }
}
