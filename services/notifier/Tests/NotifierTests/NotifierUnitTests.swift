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
    @Test func oneDevicesBurstWithinTheWindowIsOneGroup() {
        var grouper = AlertGrouper(window: .seconds(10))
        let start = ContinuousClock.now
        for (index, score) in [0.6, 0.81, 0.7].enumerated() {
            grouper.add(
                alert("edge-3", score: score, severity: index == 1 ? .critical : .warning), channel: "#a",
                at: at(Int64(index)), now: start + .seconds(index))
        }
        #expect(grouper.takeClosed(now: start + .seconds(9)).isEmpty)
        let closed = grouper.takeClosed(now: start + .seconds(10))
        #expect(closed.count == 1)
        #expect(closed.first?.channel == "#a")
        #expect(closed.first?.groups.map(\.count) == [3])
        #expect(closed.first?.groups.first?.positions == [at(0), at(1), at(2)])
        #expect(grouper.heldCount == 0)
    }

    @Test func channelsHaveTheirOwnWindows() {
        var grouper = AlertGrouper(window: .seconds(10))
        let now = ContinuousClock.now
        grouper.add(alert("a", severity: .critical), channel: "#critical", at: at(0), now: now)
        grouper.add(alert("b"), channel: "#warning", at: at(1), now: now + .seconds(5))
        #expect(grouper.takeClosed(now: now + .seconds(10)).count == 1)
        #expect(grouper.heldCount == 1)
        #expect(grouper.takeClosed(now: now + .seconds(10), closeAll: true).count == 1)
    }
}

private func alert(
    _ device: String, score: Double = 0.7, severity: Severity = .warning, episode: String? = nil,
    channels: [(String, Double)] = [], id: String = EventID.generate()
) -> AnomalyAlert {
    var scored = ScoredEvent(
        event: .reading(
            Reading(id: id, ts: Timestamp.now(), deviceID: device, temperature: 1, pressure: 2, vibration: 3)),
        score: score, anomaly: true, severity: severity, model: "m@1", scoredAt: Timestamp.now())
    scored.episode = episode.map { EpisodeMark(id: $0, state: .continues) }
    if !channels.isEmpty {
        scored.explanation = Explanation(
            detector: "spike",
            channels: channels.map {
                .init(name: $0.0, value: 10, expected: 1, spread: 1, sigmas: $0.1, detector: "spike")
            })
    }
    return AnomalyAlert(scored)
}

/// One channel's closed window holding `alerts` (grouped per device, in order) at offsets from `first`.
private func window(_ alerts: [AnomalyAlert], first: Int64 = 0, channel: String = "#a") -> ClosedWindow {
    var groups: [AlertGroup] = []
    for (index, alert) in alerts.enumerated() {
        if let slot = groups.firstIndex(where: { $0.key.subject == alert.subject }) {
            groups[slot].add(alert, at: at(first + Int64(index)))
        } else {
            var group = AlertGroup(alert)
            group.add(alert, at: at(first + Int64(index)))
            groups.append(group)
        }
    }
    return ClosedWindow(channel: channel, groups: groups)
}

@Suite struct IncidentBookTests {
    @Test func aDevicesEpisodeIsOneIncidentThatGrowsAndRepliesOnlyWithNews() throws {
        let book = IncidentBook(settings: .init(digestThreshold: 5))
        let first = book.fold(
            window([
                alert("edge-3", score: 0.6, episode: "edge-3/r1", channels: [("vibration", 5)]),
                alert("edge-3", score: 0.81, episode: "edge-3/r1", channels: [("vibration", 9)]),
            ]))
        #expect(first.planned.count == 1)
        let key = try #require(first.planned.first?.key)
        #expect(key == "device:edge-3/r1" && first.planned[0].reply == nil)
        #expect(first.planned[0].positions == [at(0), at(1)])
        book.posted(key, message: .init(channel: "C1", ts: "1.1"))
        // More of the same: the message is updated, nothing is said in its thread.
        let same = book.fold(window([alert("edge-3", score: 0.7, episode: "edge-3/r1")], first: 2))
        #expect(same.planned.map(\.key) == [key] && same.planned[0].reply == nil)
        // Severity rises and a new channel joins: news for the thread.
        let news = book.fold(
            window(
                [alert("edge-3", severity: .critical, episode: "edge-3/r1", channels: [("pressure", 4)])], first: 3))
        #expect(news.planned.first?.reply == .news(.init(added: 1, severityRose: true, newChannels: ["pressure"])))
        let incident = try #require(book.incident(key))
        #expect(incident.count == 4 && incident.severity == "critical" && incident.worst?.score == 0.81)
        #expect(incident.peaks.map(\.channel) == ["vibration", "pressure"] && incident.peaks[0].sigmas == 9)
        // Alerts of one incident from two channels' windows arrive out of offset order: all count.
        _ = book.fold(window([alert("edge-3", episode: "edge-3/r1")], first: 10, channel: "#b"))
        _ = book.fold(window([alert("edge-3", episode: "edge-3/r1")], first: 8))
        #expect(book.incident(key)?.count == 6)
    }

    @Test func anEpisodesEndResolvesItsIncidentWithAReplyOnlyOnceItHasAMessage() throws {
        let book = IncidentBook(settings: .init())
        _ = book.fold(window([alert("a", episode: "a/r1"), alert("b", episode: "b/r1")]))
        book.posted("device:a/r1", message: .init(channel: "C1", ts: "1.1"))
        let closedA = book.closeEpisode(
            EpisodeClosed(ts: Timestamp.now(), deviceID: "a", episodeID: "a/r1", scoredAt: Timestamp.now()))
        #expect(closedA?.reply == .resolved)
        #expect(book.incident("device:a/r1")?.resolved?.by == "scorer")
        // Never posted (its message failed): resolved quietly; a second end changes nothing.
        #expect(
            book.closeEpisode(
                EpisodeClosed(ts: Timestamp.now(), deviceID: "b", episodeID: "b/r1", scoredAt: Timestamp.now())) == nil)
        #expect(
            book.closeEpisode(
                EpisodeClosed(ts: Timestamp.now(), deviceID: "a", episodeID: "a/r1", scoredAt: Timestamp.now())) == nil)
    }

    @Test func manyNewDevicesAtOnceBecomeOneDigestThatKeepsFoldingWhileTheBurstLasts() throws {
        let book = IncidentBook(settings: .init(digestThreshold: 3))
        var alerts: [AnomalyAlert] = []
        for device in 0..<8 {
            for _ in 0...device { alerts.append(alert("edge-\(device)", episode: "edge-\(device)/r1")) }
        }
        let folded = book.fold(window(alerts))
        #expect(folded.planned.count == 1)
        let digest = try #require(folded.planned.first)
        #expect(digest.key.hasPrefix("digest:#a/") && digest.alerts == alerts.count)
        #expect(Set(digest.positions) == Set((0..<Int64(alerts.count)).map { at($0) }))
        #expect(book.incident(digest.key)?.subjects.count == 8)
        // The burst goes on with one more new device: into the same digest, not a message of its own.
        let more = book.fold(window([alert("edge-99", episode: "edge-99/r1")], first: 100))
        #expect(more.planned.map(\.key) == [digest.key])
        #expect(book.incident(digest.key)?.count == alerts.count + 1)
        // After the quiet period the digest is over; the next new device is an incident of its own.
        let quietBook = IncidentBook(settings: .init(digestThreshold: 3, quiet: .zero))
        _ = quietBook.fold(window(alerts))
        _ = quietBook.tick()
        #expect(
            quietBook.fold(window([alert("edge-99", episode: "edge-99/r1")], first: 100)).planned.first?.key
                == "device:edge-99/r1")
    }

    @Test func aDigestCountsEveryAlertOfDevicesWhoseOffsetsInterleave() throws {
        let book = IncidentBook(settings: .init(digestThreshold: 2))
        // Three devices on one partition, their alerts read in turn (offsets 0, 1, 2, 3 ...).
        let alerts = (0..<12).map { alert("edge-\($0 % 3)", episode: "edge-\($0 % 3)/r1") }
        let first = try #require(book.fold(window(alerts)).planned.first)
        #expect(book.incident(first.key)?.count == 12)
        let more = (0..<6).map { alert("edge-\($0 % 3)", episode: "edge-\($0 % 3)/r1") }
        _ = book.fold(window(more, first: 12))
        #expect(book.incident(first.key)?.count == 18)
        // A member's alerts taken out of the window early (its episode ended) come first, at a
        // higher offset than the rest of the window: every alert still counts.
        _ = book.fold(window([alert("edge-1", episode: "edge-1/r1")], first: 30))
        _ = book.fold(
            window([alert("edge-0", episode: "edge-0/r1"), alert("edge-2", episode: "edge-2/r1")], first: 25))
        #expect(book.incident(first.key)?.count == 21)
    }

    @Test func aMutedDevicesAlertsAreCountedNotSentUntilTheMuteEnds() throws {
        let book = IncidentBook(settings: .init())
        _ = book.fold(window([alert("pump-1", episode: "pump-1/r1")]))
        let until = Timestamp.format(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 + 3600) * 1000))
        let verdict = book.apply(
            Feedback(
                id: "x", ts: Timestamp.now(), verdict: .silenced, subject: .device("pump-1"), episodeID: "pump-1/r1",
                readings: [], user: "U1", incident: "device:pump-1/r1", until: until))
        guard case .planned(let planned) = verdict else { Issue.record("expected a planned update"); return }
        #expect(planned.reply == .silenced)
        let muted = book.fold(window([alert("pump-1", episode: "pump-1/r2")], first: 5))
        #expect(muted.planned.isEmpty && muted.settled == [at(5)] && muted.muted == 1)
        // Another device is not affected; once the mute has passed, pump-1 pages again.
        #expect(book.fold(window([alert("pump-2", episode: "pump-2/r1")], first: 6)).planned.count == 1)
        let later = Date().timeIntervalSince1970 + 3601
        #expect(book.fold(window([alert("pump-1", episode: "pump-1/r3")], first: 7), now: later).planned.count == 1)
    }

    @Test func verdictsActOnceAndAnUnknownIncidentIsSaidSo() {
        let book = IncidentBook(settings: .init())
        _ = book.fold(window([alert("a", episode: "a/r1")]))
        func feedback(_ verdict: Feedback.Verdict, _ incident: String = "device:a/r1") -> Feedback {
            Feedback(
                id: "x", ts: Timestamp.now(), verdict: verdict, subject: .device("a"), episodeID: "a/r1", readings: [],
                user: "U1", incident: incident)
        }
        if case .planned(let planned) = book.apply(feedback(.acknowledged)) {
            #expect(planned.reply == .acknowledged)
        } else {
            Issue.record("an acknowledgement is shown")
        }
        if case .nothing(let reason) = book.apply(feedback(.acknowledged)) {
            #expect(reason == "already")
        } else {
            Issue.record("a second acknowledgement changes nothing")
        }
        if case .nothing(let reason) = book.apply(feedback(.resolved, "device:zz/r1")) {
            #expect(reason == "unknown_incident")
        } else {
            Issue.record("an unknown incident is said so")
        }
        if case .planned(let planned) = book.apply(feedback(.notAnomaly)) {
            #expect(planned.reply == .notAnomaly)
        } else {
            Issue.record("not an anomaly is shown")
        }
        #expect(book.incident("device:a/r1")?.resolved?.by == "U1")
        #expect(book.incident("device:a/r1")?.notAnomaly?.by == "U1")
    }

    @Test func anUnacknowledgedIncidentIsRemindedAndAnAcknowledgedOneIsNot() throws {
        let book = IncidentBook(settings: .init(remindEvery: .seconds(1800)))
        _ = book.fold(window([alert("a", episode: "a/r1"), alert("b", episode: "b/r1")]))
        book.posted("device:a/r1", message: .init(channel: "C1", ts: "1.1"))
        book.posted("device:b/r1", message: .init(channel: "C1", ts: "1.2"))
        let now = Date().timeIntervalSince1970
        #expect(book.tick(now: now + 60).planned.isEmpty, "not yet")
        _ = book.apply(
            Feedback(
                id: "x", ts: Timestamp.now(), verdict: .acknowledged, subject: .device("b"), episodeID: "b/r1",
                readings: [], user: "U1", incident: "device:b/r1"))
        let due = book.tick(now: now + 1801).planned
        #expect(due.map(\.key) == ["device:a/r1"] && due.first?.reply == .reminder)
        #expect(book.tick(now: now + 1802).planned.isEmpty, "once per interval")
        #expect(book.tick(now: now + 3700).planned.map(\.key) == ["device:a/r1"])
    }

    @Test func aLogBurstIsOverAfterItsQuietPeriodAndTheNextLineStartsANewOne() throws {
        let book = IncidentBook(settings: .init(quiet: .seconds(600)))
        func line(_ text: String) -> AnomalyAlert {
            AnomalyAlert(
                ScoredEvent(
                    event: .log(LogEvent(id: EventID.generate(), ts: Timestamp.now(), source: "db-1", message: text)),
                    score: 0.97, anomaly: true, severity: .critical, model: "log@1", scoredAt: Timestamp.now()))
        }
        let first = try #require(book.fold(window([line("disk full")])).planned.first?.key)
        book.posted(first, message: .init(channel: "C1", ts: "1.1"))
        #expect(book.fold(window([line("disk full again")], first: 1)).planned.first?.key == first)
        let now = Date().timeIntervalSince1970
        #expect(book.tick(now: now + 60).planned.isEmpty)
        let over = book.tick(now: now + 601).planned
        #expect(over.map(\.key) == [first] && over.first?.reply == .quiet)
        #expect(book.incident(first)?.resolved?.by == "alertron" && book.incident(first)?.samples.count == 2)
        let next = try #require(book.fold(window([line("disk full once more")], first: 2)).planned.first)
        #expect(next.key != first && next.first)
    }

    @Test func aLongFirstLineIsCutSoEveryLineShowsInClosedCodeBlocks() throws {
        let book = IncidentBook(settings: .init())
        func line(_ text: String) -> AnomalyAlert {
            AnomalyAlert(
                ScoredEvent(
                    event: .log(LogEvent(id: EventID.generate(), ts: Timestamp.now(), source: "app", message: text)),
                    score: 0.97, anomaly: true, severity: .critical, model: "log@1", scoredAt: Timestamp.now()))
        }
        // A 6 KB stack trace (with characters mrkdwn escapes), then two short lines.
        let trace =
            "java.lang.IllegalStateException: <boom> & more\n"
            + String(repeating: "\tat a.b.C.d(C.java:1)\n", count: 280)
        let key = try #require(
            book.fold(window([line(trace), line("disk full on /var"), line("OOM killer: process 4242")])).planned.first?
                .key)
        let message = MessageRenderer(templates: MessageTemplates()).message(
            for: try #require(book.incident(key)), buttons: false)
        let sections = message.blocks.compactMap { block -> String? in
            guard case .section(let text?, _) = block, text.hasPrefix("*Lines*") else { return nil }
            return text
        }
        let section = try #require(sections.first)
        #expect(section.unicodeScalars.count <= SlackMessage.Limits.sectionCharacters)
        #expect(section.components(separatedBy: "```").count == 7, "three blocks, each closed")
        #expect(section.contains("```disk full on /var```") && section.contains("```OOM killer: process 4242```"))
        #expect(section.contains("IllegalStateException: &lt;boom&gt; &amp; more"))
        #expect(section.components(separatedBy: SlackMessage.truncationMarker).count == 2, "only the trace is cut")
        #expect(message.clamped().blocks == message.blocks, "nothing left for Slack's limits to cut")
    }

    @Test func aLogIncidentSaysWhyItsLineWasCritical() throws {
        let book = IncidentBook(settings: .init())
        let scored = ScoredEvent(
            event: .log(
                LogEvent(id: "l-1", ts: Timestamp.now(), source: "db-1", message: "EXT4-fs error (device sda2)")),
            score: 0.41, anomaly: true, severity: .critical, model: "log@1", scoredAt: Timestamp.now(),
            explanation: Explanation(
                detector: "new_template", channels: [], summary: "new template on db-1: `ext0 fs error device <*>`"),
            template: LogTemplateRef(id: "0123456789ab", text: "ext0 fs error device <*>"))
        let key = try #require(book.fold(window([AnomalyAlert(scored)])).planned.first?.key)
        let message = MessageRenderer(templates: MessageTemplates()).message(
            for: try #require(book.incident(key)), buttons: false)
        let text = String(decoding: message.json(), as: UTF8.self)
        #expect(text.contains("*Why*\\nnew template on db-1: `ext0 fs error device &lt;*&gt;`"), "\(text)")

        // Its "Not an anomaly" names the lines' template, so the scorer can make it routine.
        let withButtons = MessageRenderer(templates: MessageTemplates()).message(
            for: try #require(book.incident(key)), buttons: true)
        guard case .actions(let buttons) = withButtons.blocks.last else { Issue.record("no buttons"); return }
        #expect(buttons.map(\.actionID) == ["ack", "silence_1h", "silence_1d", "not_anomaly", "resolve"])
        let value = try JSONDecoder().decode(ButtonValue.self, from: Data(buttons[3].value.utf8))
        #expect(value.subject == .logSource("db-1") && value.t == ["0123456789ab"])
        let payload: [String: Any] = [
            "type": "block_actions", "user": ["id": "U0A1"],
            "actions": [["action_id": "not_anomaly", "value": buttons[3].value, "type": "button"]],
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        let verdict = try SlackInteractions.feedback(
            from: Array(("payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!).utf8)
        ).get()
        #expect(verdict.subject == .logSource("db-1") && verdict.templates == ["0123456789ab"])
        #expect(try EventCodec.decodeFeedback(EventWriter.encode(verdict)).templates == ["0123456789ab"])
        if case .planned = book.apply(verdict) {} else { Issue.record("the verdict did nothing") }
        let marked = String(
            decoding: MessageRenderer(templates: MessageTemplates()).message(
                for: try #require(book.incident(key)), buttons: true
            ).json(), as: UTF8.self)
        #expect(marked.contains("counts these lines' templates as routine for `db-1`"), "\(marked)")
    }

    @Test func recordsReadBackKeepTheNewerRevision() throws {
        let book = IncidentBook(settings: .init())
        _ = book.fold(window([alert("a", episode: "a/r1")]))
        book.posted("device:a/r1", message: .init(channel: "C1", ts: "1.1"))
        let first = try #require(book.record("device:a/r1"))
        _ = book.fold(window([alert("a", episode: "a/r1")], first: 1))
        let second = try #require(book.record("device:a/r1"))
        let restarted = IncidentBook(settings: .init())
        #expect(restarted.restore([Array("device:a/r1".utf8): second]) == 1)
        #expect(restarted.incident("device:a/r1")?.message == .init(channel: "C1", ts: "1.1"))
        #expect(restarted.incident("device:a/r1")?.count == 2)
        // An older record (another replica's, read after a rebalance) does not undo a newer one.
        #expect(restarted.restore([Array("device:a/r1".utf8): first]) == 0)
        #expect(restarted.incident("device:a/r1")?.count == 2)
        // The restored incident is the one its next alerts fold into, not a new message; alerts
        // redelivered after the crash (offsets it had counted) are not counted twice.
        let next = restarted.fold(window([alert("a", episode: "a/r1"), alert("a", episode: "a/r1")], first: 1))
        #expect(next.planned.first?.key == "device:a/r1" && next.planned.first?.positions == [at(1), at(2)])
        #expect(restarted.incident("device:a/r1")?.count == 3)
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
        let book = IncidentBook(settings: .init())
        var group = AlertGroup(AnomalyAlert(scored))
        group.add(
            AnomalyAlert(scored), at: KafkaPosition(partition: .init(topic: "anomalies", partition: 0), offset: 0))
        let key = try #require(book.fold(ClosedWindow(channel: "#a", groups: [group])).planned.first?.key)
        let message = MessageRenderer(templates: MessageTemplates()).message(
            for: try #require(book.incident(key)), buttons: true)
        let text = String(decoding: message.json(), as: UTF8.self)
        #expect(
            text.contains(
                "spike: vibration 0.0500 g, expected 0.0200 ± 0.0030 g (10.0σ); pressure 1022.0 hPa, expected 1010.2 ± 3.1 hPa (3.8σ)"
            ), "\(text)")
        #expect(text.contains("edge-5/r151"))
        #expect(text.contains("vibration peaked at 0.0500 g, expected 0.0200 (10.0σ)"), "\(text)")
        #expect(message.metadata?.incident == key && message.metadata?.state == "open")
    }

    @Test func anOpenIncidentHasItsButtonsAndAResolvedOneKeepsWhatFiredWithout() throws {
        let book = IncidentBook(settings: .init())
        var group = AlertGroup(AnomalyAlert(anomaly("edge-3", score: 0.81)))
        for offset in 0..<12 {
            var scored = anomaly("edge-3", score: offset == 0 ? 0.81 : 0.5)
            scored.episode = EpisodeMark(id: "edge-3/r1", state: .continues)
            scored.explanation = Explanation(
                detector: "shift",
                channels: [
                    .init(name: "temperature", value: 71, expected: 60, spread: 1, sigmas: 11, detector: "shift")
                ])
            group.add(
                AnomalyAlert(scored),
                at: KafkaPosition(partition: .init(topic: "anomalies", partition: 0), offset: Int64(offset)))
        }
        let key = try #require(book.fold(ClosedWindow(channel: "#a", groups: [group])).planned.first?.key)
        let renderer = MessageRenderer(templates: MessageTemplates())
        let open = renderer.message(for: try #require(book.incident(key)), buttons: true)
        #expect(open.text.hasPrefix("12 anomalies on edge-3 in "), "\(open.text)")
        #expect(open.text.hasSuffix(", worst score 0.81 critical"))
        #expect(open.metadata?.alerts == 12)
        guard case .actions(let buttons) = open.blocks.last else { Issue.record("no buttons"); return }
        #expect(buttons.map(\.actionID) == ["ack", "silence_1h", "silence_1d", "not_anomaly", "resolve"])
        let value = try JSONDecoder().decode(ButtonValue.self, from: Data(buttons[0].value.utf8))
        #expect(value.i == key && value.s == "edge-3" && value.e == "edge-3/r1" && value.subject == .device("edge-3"))
        // Without a signing secret Slack cannot call back: no buttons.
        #expect(
            !renderer.message(for: try #require(book.incident(key)), buttons: false).blocks.contains {
                if case .actions = $0 { true } else { false }
            })
        _ = book.closeEpisode(
            EpisodeClosed(ts: Timestamp.now(), deviceID: "edge-3", episodeID: "edge-3/r1", scoredAt: Timestamp.now()))
        let resolved = renderer.message(for: try #require(book.incident(key)), buttons: true)
        let text = String(decoding: resolved.json(), as: UTF8.self)
        #expect(resolved.blocks.first == .header("✅ " + resolved.text))
        #expect(text.contains("Resolved") && text.contains("temperature peaked at 71.00"), "\(text)")
        #expect(!resolved.blocks.contains { if case .actions = $0 { true } else { false } })
        #expect(resolved.metadata?.state == "resolved")
    }
}

@Suite struct SlackInteractionTests {
    private func body(action: String, value: String, user: String = "U0A1") -> [UInt8] {
        let payload: [String: Any] = [
            "type": "block_actions", "user": ["id": user, "name": "ana"],
            "actions": [["action_id": action, "value": value, "type": "button"]],
        ]
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        return Array(("payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!).utf8)
    }

    @Test func aClickBecomesAVerdictOnTheIncidentItsButtonNames() throws {
        let value = #"{"e":"d1/r1","i":"device:d1/r1","k":"device","r":["r1","r9"],"s":"d1"}"#
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let silence = try SlackInteractions.feedback(from: body(action: "silence_1h", value: value), now: now).get()
        #expect(silence.verdict == .silenced && silence.subject == .device("d1") && silence.user == "U0A1")
        #expect(silence.incident == "device:d1/r1" && silence.episodeID == "d1/r1" && silence.readings == ["r1", "r9"])
        #expect(Timestamp.secondsSinceEpoch(silence.until!) == 1_800_003_600)
        let notAnomaly = try SlackInteractions.feedback(from: body(action: "not_anomaly", value: value), now: now).get()
        #expect(notAnomaly.verdict == .notAnomaly && notAnomaly.until == nil)
        for broken in [
            body(action: "reboot", value: value), body(action: "ack", value: "{}"),
            body(action: "ack", value: value, user: ""), Array("payload=nope".utf8), Array("text=hi".utf8),
        ] {
            #expect(throws: SlackInteractions.Problem.self) { try SlackInteractions.feedback(from: broken).get() }
        }
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
