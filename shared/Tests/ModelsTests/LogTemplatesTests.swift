// Templates mined online per source (Drain), and the log verdict that combines the classifier
// with a source's new templates and a template's bursts.
import Testing

@testable import Models

@Suite struct LogTemplatesTests {
    @Test func linesOfOneTemplateShareItAndWhatDiffersBecomesAWildcard() {
        var miner = LogTemplateMiner()
        let first = miner.add("session opened for user alice by (uid=0)", source: "sshd", time: 0)
        let second = miner.add("session opened for user bob by (uid=0)", source: "sshd", time: 1)
        let other = miner.add("connection closed by 10.0.0.7 port 22", source: "sshd", time: 2)
        #expect(first.isNew && !second.isNew && second.id == first.id && second.count == 2)
        #expect(other.isNew && other.id != first.id)
        #expect(second.text == "session opened for user <*> by uid <num>" && first.text.hasSuffix("alice by uid <num>"))
        // Another source has its own templates, with other ids.
        let elsewhere = miner.add("session opened for user alice by (uid=0)", source: "bastion", time: 3)
        #expect(elsewhere.isNew && elsewhere.id != first.id)
        #expect(miner.templateCount(source: "sshd") == 2 && second.sourceLines == 2 && other.sourceLines == 3)
    }

    @Test func aSourceKeepsItsCapOfTemplatesDroppingTheLeastRecentlyUsed() {
        var settings = LogTemplateMiner.Settings()
        settings.maxTemplatesPerSource = 3
        var miner = LogTemplateMiner(settings: settings)
        let kept = miner.add("disk full on volume alpha", source: "a", time: 0)
        for (index, word) in ["beta gamma", "delta epsilon zeta", "eta theta iota kappa"].enumerated() {
            _ = miner.add("disk full on volume alpha", source: "a", time: Double(index))
            _ = miner.add("unrelated \(word) line", source: "a", time: Double(index))
        }
        #expect(miner.templateCount(source: "a") == 3)
        #expect(!miner.add("disk full on volume alpha", source: "a", time: 9).isNew, "used often, kept")
        #expect(miner.add("unrelated beta gamma line", source: "a", time: 9).isNew, "the oldest went")
        #expect(kept.text == "disk full on volume alpha")
    }

    @Test func aBurstOfARoutineTemplateIsOneEventAgainstItsOwnUsualRate() {
        var settings = LogTemplateMiner.Settings()
        settings.burstFactor = 10
        var miner = LogTemplateMiner(settings: settings)
        // Twice a minute for ten minutes: its usual rate.
        var time = 0.0
        var bursts = 0
        for _ in 0..<20 {
            if miner.add("cache refreshed in 12 ms", source: "api", time: time).burstStarted { bursts += 1 }
            time += 30
        }
        #expect(bursts == 0)
        // Then 300 in one minute: one burst, not one per line.
        var first: LogTemplateMiner.Match?
        for index in 0..<300 {
            let match = miner.add("cache refreshed in 12 ms", source: "api", time: time + Double(index) * 0.2)
            if match.burstStarted {
                bursts += 1
                first = first ?? match
            }
        }
        #expect(bursts == 1)
        #expect(first.map { $0.windowCount >= 20 && $0.usualPerWindow < 3 } == true)
    }

    @Test func aNewTemplateAfterTheWarmUpIsCriticalWhenTheClassifierLeansThatWay() throws {
        let classifier = try LogClassifier.train(
            [
                .init(message: "I/O error on device sda, sector 1234", level: nil, critical: true),
                .init(message: "kernel panic: fatal exception", level: nil, critical: true),
                .init(message: "session started for user alice", level: nil, critical: false),
                .init(message: "health check ok", level: nil, critical: false),
            ], parameters: .init())
        var settings = LogJudge.Settings()
        settings.warmUpLines = 3
        settings.noveltyProbability = 0.35
        var judge = LogJudge(settings: settings)
        for line in ["health check ok", "session started for user alice", "health check ok"] {
            #expect(!judge.judge(line, source: "db-1", time: 0, classifier: classifier).critical)
        }
        let novel = judge.judge(
            "I/O error reading block 77 on nvme0n1", source: "db-1", time: 1, classifier: classifier)
        let routine = judge.judge("session closed for user bob", source: "db-1", time: 2, classifier: classifier)
        #expect(!routine.critical, "a new routine template is not news")
        if novel.reason != .classifier {
            #expect(novel.critical && novel.reason == .newTemplate)
            #expect(novel.explanation?.hasPrefix("new template on db-1: `i o error reading block <num>") == true)
        }
        // During the warm-up the same line is judged by the classifier alone.
        var fresh = LogJudge(settings: settings)
        let early = fresh.judge(
            "I/O error reading block 77 on nvme0n1", source: "db-1", time: 1, classifier: classifier)
        #expect(early.reason != .newTemplate)
    }
}

@Suite struct LogTemplatesTaughtAndKeptTests {
    static func classifier() throws -> LogClassifier {
        try LogClassifier.train(
            [
                .init(message: "I/O error on device sda, sector 1234", level: nil, critical: true),
                .init(message: "kernel panic: fatal exception", level: nil, critical: true),
                .init(message: "backup failed: disk error on volume 7", level: nil, critical: true),
                .init(message: "session started for user alice", level: nil, critical: false),
                .init(message: "health check ok", level: nil, critical: false),
            ], parameters: .init())
    }

    @Test func afterNotAnAnomalyATemplateNoLongerAlertsAndOthersStillDo() throws {
        let classifier = try Self.classifier()
        var judge = LogJudge()
        let first = judge.judge("I/O error on device sdb, sector 99", source: "db-1", time: 0, classifier: classifier)
        let other = judge.judge("kernel panic: fatal exception", source: "db-1", time: 0, classifier: classifier)
        let elsewhere = judge.judge(
            "I/O error on device sdb, sector 99", source: "db-2", time: 0, classifier: classifier)
        try #require(first.critical && other.critical && elsewhere.critical, "the classifier calls all three critical")

        let label = LogTemplateMiner.Label(by: "U024BE7LH", at: "2026-12-07T20:00:00Z")
        let found = judge.miner.markRoutine(
            source: "db-1", templates: [first.template.id, "000000000000"], label: label)
        #expect(found == [first.template.id], "an id the source does not hold is not found")

        let again = judge.judge("I/O error on device sdc, sector 7", source: "db-1", time: 1, classifier: classifier)
        #expect(again.template.id == first.template.id && !again.critical && again.routine == label)
        #expect(again.explanation?.contains("U024BE7LH said not an anomaly") == true)
        // Another template of the source, and the same template on another source, still alert.
        #expect(judge.judge("kernel panic: fatal exception", source: "db-1", time: 1, classifier: classifier).critical)
        #expect(
            judge.judge("I/O error on device sdb, sector 5", source: "db-2", time: 1, classifier: classifier).critical)
        // Said twice (a redelivered verdict), the first label stays.
        _ = judge.miner.markRoutine(
            source: "db-1", templates: [first.template.id], label: .init(by: "U999", at: "2026-12-08T00:00:00Z"))
        #expect(
            judge.judge("I/O error on device sda, sector 1", source: "db-1", time: 2, classifier: classifier).routine
                == label)
    }

    @Test func aSourcesTemplatesAndLabelsSurviveItsStateRecord() throws {
        let classifier = try Self.classifier()
        var settings = LogJudge.Settings()
        settings.templates.burstFactor = 10
        var judge = LogJudge(settings: settings)
        var time = 0.0
        for index in 0..<40 {
            _ = judge.judge(
                "cache refreshed in \(index) ms", source: "api", time: time, classifier: classifier, partition: 3)
            _ = judge.judge(
                "session started for user u\(index)", source: "api", time: time, classifier: classifier, partition: 3)
            time += 30
        }
        let failing = judge.judge(
            "backup failed: disk error on volume 9", source: "api", time: time, classifier: classifier, partition: 3)
        _ = judge.miner.markRoutine(
            source: "api", templates: [failing.template.id], label: .init(by: "U1", at: "2026-12-07T20:00:00Z"))
        #expect(judge.miner.sourcesToWrite(interval: 60) == ["api"])
        #expect(judge.miner.sourcesToWrite(interval: 60).isEmpty, "written: nothing new since")

        var record = SnapshotWriter()
        #expect(judge.miner.write(source: "api", to: &record) == 3)
        var restored = LogJudge(settings: settings)
        let restoredRecord1 = restored.miner.restore(source: "api", snapshot: record.bytes, partition: 4)
        #expect(!restoredRecord1, "another partition's")
        #expect(restored.miner.templateCount(source: "api") == 0)
        let restoredRecord2 = restored.miner.restore(source: "api", snapshot: record.bytes, partition: 3)
        #expect(restoredRecord2)
        #expect(restored.miner.templateCount(source: "api") == 3)

        // The same lines give the same templates, counts and rates; the label holds.
        let cache = judge.judge(
            "cache refreshed in 7 ms", source: "api", time: time, classifier: classifier, partition: 3)
        let cacheAfter = restored.judge(
            "cache refreshed in 7 ms", source: "api", time: time, classifier: classifier, partition: 3)
        #expect(!cacheAfter.template.isNew && cacheAfter.template.id == cache.template.id)
        #expect(
            cacheAfter.template.count == cache.template.count
                && cacheAfter.template.sourceLines == cache.template.sourceLines)
        #expect(
            cacheAfter.template.usualPerWindow == cache.template.usualPerWindow
                && cacheAfter.template.text == cache.template.text)
        let backup = restored.judge(
            "backup failed: disk error on volume 2", source: "api", time: time, classifier: classifier, partition: 3)
        #expect(!backup.critical && backup.routine?.by == "U1")

        // A damaged record, or one of another layout, restores nothing.
        var other = LogJudge(settings: settings)
        let damaged = other.miner.restore(source: "api", snapshot: Array(record.bytes.dropLast(3)), partition: 3)
        #expect(!damaged)
        let restoredRecord3 = other.miner.restore(
            source: "api", snapshot: [UInt8](repeating: 9, count: 16), partition: 3)
        #expect(!restoredRecord3)
        #expect(other.miner.templateCount(source: "api") == 0)

        // However many long templates a source holds, its record stays below the cap, keeping the label.
        var wide = LogJudge(settings: settings)
        for index in 0..<500 {
            let words = (0..<200).map { "w\(index)x\(String(repeating: "abcdefgh", count: 4))\($0 % 7)" }
            _ = wide.judge(words.joined(separator: " "), source: "wide", time: 0, classifier: classifier)
        }
        let labelled = wide.judge(
            "backup failed: disk error on volume 9", source: "wide", time: 1, classifier: classifier)
        _ = wide.miner.markRoutine(source: "wide", templates: [labelled.template.id], label: .init(by: "U1", at: "t"))
        var big = SnapshotWriter()
        _ = wide.miner.write(source: "wide", to: &big)
        #expect(big.bytes.count <= LogTemplateMiner.maxRecordBytes, "\(big.bytes.count) bytes")
        var back = LogJudge(settings: settings)
        let restoredRecord4 = back.miner.restore(source: "wide", snapshot: big.bytes, partition: 0)
        #expect(restoredRecord4)
        #expect(
            back.judge("backup failed: disk error on volume 2", source: "wide", time: 2, classifier: classifier).routine
                != nil)

        // A rebalance that moves partition 3 away forgets the source.
        restored.miner.forget(partitions: [3])
        #expect(restored.miner.templateCount(source: "api") == 0)
    }
}

@Suite struct LogTokensOnceTests {
    @Test func classifyingFromTheTokensGivesTheSameProbabilityAsFromTheLine() throws {
        let classifier = try LogClassifier.train(
            [
                .init(message: "md0: Disk failure on sdb1, disabling device", level: "CRIT", critical: true),
                .init(message: "session opened for user alice by (uid=0)", critical: false),
            ], parameters: .init())
        var tokens: [UInt64] = []
        for (line, level) in [
            ("md2: Disk failure on sdc3, disabling device", "ERROR"), ("", nil), ("x=1 y=0x1f /var/log 10.0.0.1", nil),
        ] {
            var bytes = line
            bytes.withUTF8 { LogTokenizer.keys(of: $0, into: &tokens) }
            #expect(
                classifier.probability(tokens: tokens, level: level) == classifier.probability(of: line, level: level))
        }
    }
}
