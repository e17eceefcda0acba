// The notifier's pure parts, without Kafka or Slack: the offset ledger, grouping, duplicate
// detection, Slack's limits, templates and the Alertmanager payload.
import Events
import Foundation
import Kafka
import Telemetry
import Testing
@testable import Notifier

private let partition0 = KafkaTopicPartition(topic: "anomalies", partition: 0)
private let partition1 = KafkaTopicPartition(topic: "anomalies", partition: 1)
private func at(_ offset: Int64, _ partition: KafkaTopicPartition = partition0) -> KafkaPosition {
    KafkaPosition(partition: partition, offset: offset)
}

@Suite struct OffsetLedgerTests {
    @Test func anOffsetIsStoredOnlyWhenEverythingBeforeItIsFinished() {
        var ledger = OffsetLedger()
        for offset in Int64(10)...14 { ledger.begin(at(offset)) }
        // 12 and 13 go out first (another device's message): nothing before them is done yet.
        #expect(ledger.finish([at(12), at(13)]).isEmpty)
        #expect(ledger.pendingCount == 5, "12 and 13 cannot be stored before 10 and 11")
        #expect(ledger.finish([at(10)]) == [partition0: 11])
        #expect(ledger.finish([at(11)]) == [partition0: 14])
        #expect(ledger.finish([at(14)]) == [partition0: 15])
        #expect(ledger.pendingCount == 0)
    }

    @Test func partitionsAdvanceIndependently() {
        var ledger = OffsetLedger()
        ledger.begin(at(0))
        ledger.begin(at(5, partition1))
        #expect(ledger.finish([at(5, partition1)]) == [partition1: 6])
        #expect(ledger.pendingCount == 1)
    }

    @Test func repeatsAndUnknownOffsetsAreIgnored() {
        var ledger = OffsetLedger()
        ledger.begin(at(1))
        ledger.begin(at(2))
        #expect(ledger.finish([at(2), at(2), at(7)]).isEmpty)
        #expect(ledger.finish([at(1)]) == [partition0: 3])
        #expect(ledger.finish([at(1)]).isEmpty)
    }

    @Test func readingAPartitionAgainStartsItOver() {
        var ledger = OffsetLedger()
        for offset in Int64(100)...103 { ledger.begin(at(offset)) }
        // A rebalance handed the partition back from its committed offset 100.
        ledger.begin(at(100))
        #expect(ledger.pendingCount == 1)
        #expect(ledger.finish([at(100)]) == [partition0: 101])
    }
}

@Suite struct AlertGrouperTests {
    private func alert(_ device: String, score: Double = 0.7, severity: Severity = .warning) -> AnomalyAlert {
        AnomalyAlert(
            ScoredEvent(
                event: .reading(
                    Reading(
                        id: EventID.generate(), ts: Timestamp.now(), deviceID: device,
                        temperature: 1, pressure: 2, vibration: 3)),
                score: score, anomaly: true, severity: severity, model: "m@1", scoredAt: Timestamp.now()))
    }

    @Test func oneDevicesBurstWithinTheWindowIsOneMessage() {
        var grouper = AlertGrouper(window: .seconds(10), digestThreshold: 5)
        let start = ContinuousClock.now
        for (index, score) in [0.6, 0.81, 0.7].enumerated() {
            grouper.add(
                alert("edge-3", score: score, severity: index == 1 ? .critical : .warning), channel: "#a",
                at: at(Int64(index)), now: start + .seconds(index))
        }
        #expect(grouper.takeClosed(now: start + .seconds(9)).isEmpty)
        let closed = grouper.takeClosed(now: start + .seconds(10))
        #expect(closed.count == 1)
        guard case .group(let group, let channel, _) = closed.first else { Issue.record("expected one group"); return }
        #expect(channel == "#a")
        #expect(group.count == 3)
        #expect(group.worst.score == 0.81)
        #expect(group.severity == .critical)
        #expect(group.positions == [at(0), at(1), at(2)])
        #expect(grouper.heldCount == 0)
    }

    @Test func manyDevicesAtOnceBecomeOneDigestThatCountsEveryAlert() {
        var grouper = AlertGrouper(window: .seconds(1), digestThreshold: 3)
        let now = ContinuousClock.now
        var offset: Int64 = 0
        for device in 0..<8 {
            for _ in 0...device {
                grouper.add(alert("edge-\(device)"), channel: "#a", at: at(offset), now: now)
                offset += 1
            }
        }
        let closed = grouper.takeClosed(now: now + .seconds(1))
        #expect(closed.count == 1)
        guard case .digest(let groups, _, _) = closed.first else { Issue.record("expected a digest"); return }
        #expect(groups.count == 8)
        #expect(closed[0].alertCount == Int(offset))
        #expect(Set(closed[0].positions) == Set((0..<offset).map { at($0) }))
    }

    @Test func channelsHaveTheirOwnWindows() {
        var grouper = AlertGrouper(window: .seconds(10), digestThreshold: 5)
        let now = ContinuousClock.now
        grouper.add(alert("a", severity: .critical), channel: "#critical", at: at(0), now: now)
        grouper.add(alert("b"), channel: "#warning", at: at(1), now: now + .seconds(5))
        #expect(grouper.takeClosed(now: now + .seconds(10)).count == 1)
        #expect(grouper.heldCount == 1)
        #expect(grouper.takeClosed(now: now + .seconds(10), closeAll: true).count == 1)
    }
}

@Suite struct RecentKeysTests {
    @Test func aKeySeenBeforeIsADuplicateUntilItIsEvicted() {
        var keys = RecentKeys(capacity: 3)
        let now = ContinuousClock.now
        func isNew(_ key: String) -> Bool { keys.insert(key, now: now) }
        #expect(isNew("a"))
        #expect(!isNew("a"))
        #expect(["b", "c", "d"].map(isNew) == [true, true, true])
        #expect(keys.count == 3)
        #expect(isNew("a"), "the oldest key was evicted to make room")
        #expect(!isNew("d"))
    }

    @Test func keysExpireAfterTheirMaximumAge() {
        var keys = RecentKeys(capacity: 100, maxAge: .seconds(300))
        let now = ContinuousClock.now
        func isNew(after seconds: Int) -> Bool { keys.insert("x", now: now + .seconds(seconds)) }
        #expect(isNew(after: 0))
        #expect(!isNew(after: 299))
        #expect(isNew(after: 300), "Alertmanager's repeat after repeat_interval is a new notification")
    }
}

@Suite struct SlackMessageTests {
    @Test func everyPartBeyondSlacksLimitsIsCutWithAMarker() {
        let long = String(repeating: "é", count: 10_000)
        let message = SlackMessage(
            channel: "#a", text: long,
            blocks: [.header(long), .section(text: long, fields: (0..<25).map { "field \($0) " + long })]
                + (0..<80).map { _ in .context(["x"]) }
        ).clamped()
        #expect(message.text.unicodeScalars.count == SlackMessage.Limits.textCharacters)
        #expect(message.text.hasSuffix(SlackMessage.truncationMarker))
        #expect(message.blocks.count == SlackMessage.Limits.blocks)
        guard case .header(let header) = message.blocks[0], case .section(let text?, let fields) = message.blocks[1]
        else {
            Issue.record("expected a header and a section first")
            return
        }
        #expect(header.unicodeScalars.count == SlackMessage.Limits.headerCharacters)
        #expect(text.unicodeScalars.count == SlackMessage.Limits.sectionCharacters)
        #expect(fields.count == SlackMessage.Limits.fields)
        #expect(fields.last == "… and 16 more")
        #expect(fields.allSatisfy { $0.unicodeScalars.count <= SlackMessage.Limits.fieldCharacters })
    }

    @Test func aMessageWithinTheLimitsIsUnchanged() {
        let message = SlackMessage(
            channel: "#a", text: "hi", blocks: [.header("h"), .section(text: "s", fields: ["f"]), .divider])
        #expect(message.clamped() == message)
    }
}

@Suite struct MessageTemplateTests {
    @Test func unknownPlaceholdersAreRefusedAtStartUp() {
        #expect(throws: SettingsError.self) {
            try NotifierSettings.resolve(
                ["--template-anomalies", "{count} on {devise}"], environment: [:], defaults: NotifierSettings())
        }
        #expect(throws: SettingsError.self) {
            try NotifierSettings.resolve(
                [], environment: ["NOTIFIER_TEMPLATE_DIGEST": "{lines}"], defaults: NotifierSettings())
        }
        let fine = try? NotifierSettings.resolve(
            ["--template-logs", "{lines} from {subject}"], environment: [:], defaults: NotifierSettings())
        #expect(fine?.templates.logs == "{lines} from {subject}")
    }

    @Test func aMessageSaysWhyTheWorstReadingFiredAgainstTheDevicesOwnNormal() throws {
        var scored = anomaly("edge-5", score: 0.7, severity: .warning)
        scored.episode = EpisodeMark(id: "edge-5/r151", state: .opened)
        scored.explanation = Explanation(
            detector: "spike",
            channels: [
                .init(name: "vibration", value: 0.05, expected: 0.02, spread: 0.003, sigmas: 10, detector: "spike"),
                .init(name: "pressure", value: 1022, expected: 1010.2, spread: 3.1, sigmas: 3.8, detector: "shift"),
            ])
        let message = MessageRenderer(templates: MessageTemplates()).message(
            for: .group(AlertGroup(AnomalyAlert(scored)), channel: "#a", window: .seconds(60)))
        let text = String(decoding: message.json(), as: UTF8.self)
        #expect(
            text.contains(
                "spike: vibration 0.0500 g, expected 0.0200 ± 0.0030 g (10.0σ); pressure 1022.0 hPa, expected 1010.2 ± 3.1 hPa (3.8σ)"
            ), "\(text)")
        #expect(text.contains("edge-5/r151"))
    }

    @Test func theDefaultHeadlineReadsLikeTheIssueAsksFor() {
        var group = AlertGroup(AnomalyAlert(anomaly("edge-3", score: 0.81)))
        for offset in 0..<12 {
            group.add(AnomalyAlert(anomaly("edge-3", score: offset == 0 ? 0.81 : 0.5)), at: at(Int64(offset)))
        }
        let message = MessageRenderer(templates: MessageTemplates()).message(
            for: .group(group, channel: "#a", window: .seconds(60)))
        #expect(message.text == "12 anomalies on edge-3 in 60 s, worst score 0.81 critical")
        #expect(message.metadata?.alerts == 12)
    }
}

@Suite struct AlertmanagerPayloadTests {
    @Test func aVersion4PayloadDecodesAndUnknownFieldsAreIgnored() throws {
        let notification = try AlertmanagerNotification.decode(alertmanagerPayload(status: "firing"))
        #expect(notification.name == "DiskFull")
        #expect(notification.severity == "critical")
        #expect(notification.alerts.count == 1)
    }

    @Test func whatIsWrongIsNamed() {
        func problem(_ json: String) -> String? {
            do {
                _ = try AlertmanagerNotification.decode(Array(json.utf8))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem("not json") == "the body is not JSON")
        #expect(problem(#"{"status":"firing","alerts":[]}"#) == "missing field groupKey")
        #expect(
            problem(#"{"groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":1}}]}"#)
                == "field alerts[0].labels.a is not a string")
        #expect(problem(#"{"groupKey":"g","status":"firing","alerts":[]}"#) == "alerts is empty")
        #expect(
            problem(#"{"version":"3","groupKey":"g","status":"firing","alerts":[]}"#)?.contains("version 3") == true)
        #expect(
            problem(#"{"groupKey":"g","status":"pending","alerts":[{"status":"firing","labels":{}}]}"#)
                == "status must be firing or resolved")
    }

    @Test func theSameGroupStatusAndAlertsIsTheSameNotification() throws {
        let first = try AlertmanagerNotification.decode(
            alertmanagerPayload(status: "firing", alerts: [("f1", "firing"), ("f2", "firing")]))
        let again = try AlertmanagerNotification.decode(
            alertmanagerPayload(status: "firing", alerts: [("f2", "firing"), ("f1", "firing")]))
        let resolved = try AlertmanagerNotification.decode(
            alertmanagerPayload(status: "resolved", alerts: [("f1", "resolved"), ("f2", "resolved")]))
        #expect(first.deduplicationKey == again.deduplicationKey)
        #expect(first.deduplicationKey != resolved.deduplicationKey)
    }
}
