// A person's "not an anomaly" reaching the scorer: in a batch beside the readings (no broker),
// and through the real broker, where the dismissed fault stays quiet and another one does not.
import Events
import Kafka
import MetricsTestKit
import Models
import Telemetry
import Testing
@testable import Scorer

/// Verdicts from the feedback topic, as messages of partition 2 (beside `DeviceStream`'s readings).
struct FeedbackStream {
    private var offset: Int64 = 0

    mutating func next(
        _ verdict: Feedback.Verdict = .notAnomaly, on subject: Feedback.Subject = .device("edge-5"),
        episode: String?, templates: [String] = []
    ) -> KafkaConsumerMessage {
        offset += 1
        let feedback = Feedback(
            id: "verdict-\(offset)", ts: Timestamp.now(), verdict: verdict, subject: subject, episodeID: episode,
            readings: [], user: "U024BE7LH", incident: "incident-1",
            until: verdict == .silenced ? Timestamp.now() : nil, templates: templates)
        return raw(EventWriter.encode(feedback), key: subject.key)
    }

    mutating func raw(_ value: [UInt8], key: String = "edge-5") -> KafkaConsumerMessage {
        offset += 1
        return KafkaConsumerMessage(
            topic: Topic.feedback, partition: 2, offset: offset, key: ArraySlice(key.utf8), value: ArraySlice(value),
            timestampMilliseconds: nil)
    }
}

@Suite(.computeThread) struct FeedbackBatchTests {
    private var settings: ScorerSettings {
        var settings = ScorerSettings()
        settings.detection.warmUp = 100
        return settings
    }

    private func score(
        _ messages: [KafkaConsumerMessage], on scorer: inout BatchScorer
    ) throws -> (outcome: BatchScorer.Outcome, sent: [(topic: String, key: String?, value: [UInt8])]) {
        var output = KafkaProducerBatch()
        let outcome = scorer.score(
            KafkaConsumerBatch(messages: messages), models: try models(), scoredAt: Timestamp.now(), into: &output)
        return (outcome, output.sentMessages())
    }

    private func scored(_ sent: [(topic: String, key: String?, value: [UInt8])]) throws -> [ScoredEvent] {
        try sent.filter { $0.topic == "scored" }.map { try EventCodec.decodeScored($0.value) }
    }

    @Test func notAnAnomalyQuietsTheSameSpikeFromWhereItStandsInTheBatch() throws {
        var (scorer, unheard) = (BatchScorer(settings: settings), BatchScorer(settings: settings))
        var (stream, twin) = (DeviceStream(), DeviceStream())
        var verdicts = FeedbackStream()
        // Warm (100 readings) and 10 more: r1...r110.
        _ = try score((0..<110).map { _ in stream.next() }, on: &scorer)
        _ = try score((0..<110).map { _ in twin.next() }, on: &unheard)

        // r111 is a spike (ten of vibration's spreads) that opens an episode; the verdict on it
        // comes next in the same batch, then three normal readings and the same spike again.
        let spikes: Set<String> = ["r111", "r115"]
        let told = try score(
            [stream.next(vibrationOffset: 0.02), verdicts.next(episode: "edge-5/r111")]
                + (0..<3).map { _ in stream.next() } + [stream.next(vibrationOffset: 0.02)], on: &scorer)
        let notTold = try score(
            [twin.next(vibrationOffset: 0.02)] + (0..<3).map { _ in twin.next() } + [twin.next(vibrationOffset: 0.02)],
            on: &unheard)
        #expect(try scored(notTold.sent).filter(\.anomaly).map(\.event.id) == ["r111", "r115"], "unheard, both alert")
        let afterVerdict = try scored(told.sent)
        #expect(afterVerdict.filter(\.anomaly).map(\.event.id) == ["r111"], "told, the second spike is normal")
        #expect(afterVerdict.first?.episode?.id == "edge-5/r111")
        #expect(afterVerdict.filter { spikes.contains($0.event.id) }.count == 2)
        #expect(told.outcome.feedback.map(\.result) == [.applied])
        let widened = try #require(told.outcome.feedback.first?.widened)
        #expect(widened.contains { $0.hasPrefix("vibration.spike=") }, "\(widened)")
        #expect(!widened.contains { $0.hasPrefix("temperature.") || $0.hasPrefix("pressure.") }, "\(widened)")
        let record = try #require(told.sent.last { $0.topic == Topic.scorerState && $0.key == "edge-5" })

        // What the verdict taught moves with the device to the partition's next owner.
        var next = BatchScorer(settings: settings)
        #expect(next.partitionsToRestore(in: KafkaConsumerBatch(messages: [verdicts.next(episode: nil)])).isEmpty)
        #expect(
            next.partitionsToRestore(
                in: KafkaConsumerBatch(messages: [verdicts.next(episode: nil)]), inputPartitionsOwned: [2]) == [2],
            "a verdict restores its partition's devices only where this replica owns the readings' partition")
        let restored = next.restore(partition: 2, records: [Array("edge-5".utf8): record.value])
        #expect(restored.restored == 1 && restored.discarded == 0)
        #expect(next.devices["edge-5"]?.lastEpisodeID == "edge-5/r111")
        let moved = try score(
            (0..<3).map { _ in stream.next() } + [stream.next(vibrationOffset: 0.02)], on: &next)
        #expect(try scored(moved.sent).allSatisfy { !$0.anomaly }, "the next owner knows it too")
    }

    @Test func verdictsTheScorerCannotUseAreCountedAndBadOnesAreDeadLettered() throws {
        var scorer = BatchScorer(settings: settings)
        var stream = DeviceStream()
        var verdicts = FeedbackStream()
        _ = try score((0..<110).map { _ in stream.next() } + [stream.next(vibrationOffset: 0.02)], on: &scorer)
        #expect(scorer.devices["edge-5"]?.lastEpisodeID == "edge-5/r111")

        let (outcome, sent) = try score(
            [
                verdicts.raw(Array("{broken".utf8)),
                verdicts.next(episode: "edge-5/r7"),
                verdicts.next(on: .device("edge-404"), episode: "edge-404/r1"),
                verdicts.next(on: .device("edge-5"), episode: nil),
                verdicts.next(on: .logSource("kernel"), episode: nil),
                verdicts.next(.acknowledged, episode: "edge-5/r111"),
                verdicts.next(on: .alertmanagerGroup("{}:{alertname=\"HighAnomalyRate\"}"), episode: nil),
                verdicts.next(episode: "edge-5/r111"),
                verdicts.next(episode: "edge-5/r111"),
            ], on: &scorer)
        #expect(
            outcome.feedback.map(\.result) == [
                .staleEpisode, .unknownDevice, .staleEpisode, .unknownTemplate, .ignored, .ignored, .applied, .applied,
            ])
        #expect(outcome.feedback.first?.latestEpisode == "edge-5/r111")
        #expect(!outcome.feedback[6].widened.isEmpty && outcome.feedback[7].widened.isEmpty, "the second is a no-op")
        #expect(outcome.invalidFeedback == 1 && outcome.deadLetters == ["malformed_json": 1])
        #expect(outcome.scored == 0)
        let letters = sent.filter { $0.topic == "feedback.dlq" }.map { try! EventCodec.decodeDeadLetter($0.value) }
        #expect(letters.map(\.sourceTopic) == [Topic.feedback] && letters.map(\.sourceOffset) == [1])
        #expect(sent.filter { $0.topic == Topic.scorerState }.map(\.key) == ["edge-5"], "once, for the change")
        #expect(!sent.contains { $0.topic == "readings.dlq" })

        let metrics = TestMetrics()
        ScorerMetrics(MetricHandles(factory: metrics)).record(outcome, batchSize: 9)
        #expect(metrics.total("alertron_scorer_feedback_total", ("outcome", "applied")) == 2)
        #expect(metrics.total("alertron_scorer_feedback_total", ("outcome", "stale_episode")) == 2)
        #expect(metrics.total("alertron_scorer_feedback_total", ("outcome", "unknown_device")) == 1)
        #expect(metrics.total("alertron_scorer_feedback_total", ("outcome", "unknown_template")) == 1)
        #expect(metrics.total("alertron_scorer_feedback_total", ("outcome", "ignored")) == 2)
        #expect(metrics.total("alertron_scorer_feedback_total", ("outcome", "invalid")) == 1)
    }

    @Test func notAnAnomalyOnALogIncidentQuietsItsTemplateOnlyAndMovesWithTheSource() throws {
        var scorer = BatchScorer(settings: ScorerSettings())
        var verdicts = FeedbackStream()
        var offset: Int64 = 100
        func line(_ text: String, source: String = "db-1") -> KafkaConsumerMessage {
            offset += 1
            return KafkaConsumerMessage(
                topic: "readings", partition: 2, offset: offset, key: ArraySlice(source.utf8),
                value: ArraySlice(EventWriter.encode(.log(logEvent(source, text)))), timestampMilliseconds: nil)
        }
        let disk = { (n: Int) in "md\(n % 4): Disk failure on sdb\(n % 8), disabling device" }
        let oom = { (n: Int) in "Out of memory: Killed process \(n) (java) total-vm:\(n * 3)kB" }
        let before = try score([line(disk(1)), line(oom(2)), line(disk(3), source: "db-2")], on: &scorer)
        let first = try scored(before.sent)
        try #require(first.count == 3 && first.allSatisfy { $0.anomaly }, "the classifier calls all three critical")
        let template = try #require(first[0].template?.id)

        // A person says the disk lines of db-1 are routine; the verdict names the template.
        var output = KafkaProducerBatch()
        let outcome = scorer.score(
            KafkaConsumerBatch(messages: [
                verdicts.next(on: .logSource("db-1"), episode: nil, templates: [template]), line(disk(5)),
                line(oom(6)), line(disk(7), source: "db-2"),
            ]), models: try models(), scoredAt: Timestamp.now(), into: &output)
        #expect(outcome.feedback.map(\.result) == [.applied])
        #expect(outcome.feedback.first?.widened == ["template=\(template)"])
        let judged = try scored(output.sentMessages())
        #expect(judged.map(\.anomaly) == [false, true, true], "the disk line of db-1 is quiet; others still alert")
        #expect(judged[0].template?.id == template && judged[0].explanation?.detector == "people")
        #expect(judged[0].explanation?.summary?.contains("U024BE7LH said not an anomaly") == true)
        #expect(outcome.routineByPeople == 1 && outcome.criticalLogs == 2)
        let metrics = TestMetrics()
        ScorerMetrics(MetricHandles(factory: metrics)).record(outcome, batchSize: 4)
        #expect(metrics.total("alertron_scorer_logs_marked_routine_total") == 1)

        // db-1's templates, with what people said, go to the state topic in the source's
        // partition, under a key no device id can have (0xFF, "log:", the source).
        let records = (0..<output.count).map { (output.message(at: $0), output.partition(at: $0)) }
            .filter { $0.0.topic == Topic.scorerState }
        let key = [UInt8]([0xFF]) + Array("log:db-1".utf8)
        let record = try #require(records.first { $0.0.key == key })
        #expect(record.1 == 2)
        #expect(!records.contains { $0.0.key == Array("db-1".utf8) })

        // The partition's next owner restores the source and keeps it quiet.
        var next = BatchScorer(settings: ScorerSettings())
        #expect(next.restore(partition: 2, records: [key: record.0.value]) == (restored: 1, discarded: 0))
        let moved = try scored(try score([line(disk(11)), line(oom(12))], on: &next).sent)
        #expect(moved.map(\.anomaly) == [false, true] && moved[0].template?.id == template)
        // A verdict alone in its batch (a quiet source) is written at once, not at the next line.
        let oomTemplate = try #require(moved[1].template?.id)
        var alone = KafkaProducerBatch()
        _ = next.score(
            KafkaConsumerBatch(messages: [verdicts.next(on: .logSource("db-1"), episode: nil, templates: [oomTemplate])]
            ),
            models: try models(), scoredAt: Timestamp.now(), into: &alone)
        let written = (0..<alone.count).map { alone.message(at: $0) }.filter { $0.topic == Topic.scorerState }
        #expect(written.map(\.key) == [key], "the label reached the state topic with its own batch")
        // A record for another partition is not this one's.
        var elsewhere = BatchScorer(settings: ScorerSettings())
        #expect(elsewhere.restore(partition: 5, records: [key: record.0.value]) == (restored: 0, discarded: 1))
    }

    @Test func aLogSourceDroppedForAnotherIsDeletedFromTheStateTopic() throws {
        var settings = ScorerSettings()
        settings.logs.templates.maxSources = 1
        var scorer = BatchScorer(settings: settings)
        func line(_ source: String, partition: Int32, offset: Int64) -> KafkaConsumerMessage {
            KafkaConsumerMessage(
                topic: "readings", partition: partition, offset: offset, key: ArraySlice(source.utf8),
                value: ArraySlice(EventWriter.encode(.log(logEvent(source, "checkpoint complete: wrote 7 buffers")))),
                timestampMilliseconds: nil)
        }
        var output = KafkaProducerBatch()
        _ = scorer.score(
            KafkaConsumerBatch(messages: [line("db-1", partition: 3, offset: 1), line("db-2", partition: 4, offset: 1)]
            ),
            models: try models(), scoredAt: Timestamp.now(), into: &output)
        let state = (0..<output.count).filter { output.message(at: $0).topic == Topic.scorerState }
        let tombstones = state.filter { output.message(at: $0).value.isEmpty }
        #expect(tombstones.count == 1)
        #expect(tombstones.map { output.message(at: $0).key } == [[0xFF] + Array("log:db-1".utf8)])
        #expect(tombstones.map { output.partition(at: $0) } == [3], "in the partition the record was written to")
        #expect(state.count == 2, "db-2's record, and db-1's tombstone (db-1 is no longer held, so not written)")
    }

    @Test func theFeedbackTopicIsASettingAndAnEmptyOneTurnsFeedbackOff() throws {
        func resolve(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ScorerSettings {
            try ScorerSettings.resolve(arguments, environment: environment, defaults: ScorerSettings())
        }
        #expect(try resolve([]).feedbackTopic == Topic.feedback)
        #expect(try resolve([]).feedbackDeadLetterTopic == "feedback.dlq")
        #expect(try resolve([], ["SCORER_FEEDBACK_TOPIC": "verdicts"]).feedbackTopic == "verdicts")
        #expect(try resolve(["--feedback-topic", ""]).feedbackTopic == "")
    }

    @Test func aStateRecordOfThePreviousLayoutStillRestoresTheDevice() throws {
        var scorer = BatchScorer(settings: settings)
        var stream = DeviceStream()
        _ = try score((0..<110).map { _ in stream.next() } + [stream.next(vibrationOffset: 0.02)], on: &scorer)
        let memory = try #require(scorer.devices["edge-5"])
        // Layout 4, as the scorer wrote it before feedback: no latest episode, and the detector's
        // state ends before its tolerances (8 doubles a channel, 2 for the joint test).
        var old = SnapshotWriter()
        old.integer(4)
        old.string(memory.profile)
        old.integer(memory.columns.count)
        for column in memory.columns { old.string(column) }
        old.integer(Int(memory.partition))
        old.integer(Int(memory.lastOffset))
        old.string(memory.episodeID)
        var state = SnapshotWriter()
        memory.state.write(to: &state)
        let record = old.bytes + state.bytes.dropLast((8 * memory.columns.count + 2) * 8)

        var next = BatchScorer(settings: settings)
        let counts = next.restore(partition: 2, records: [Array("edge-5".utf8): record])
        #expect(counts.restored == 1 && counts.discarded == 0)
        let restored = try #require(next.devices["edge-5"])
        #expect(restored.episodeID == "edge-5/r111" && restored.lastEpisodeID == "edge-5/r111")
        #expect(!restored.state.isLearning && restored.state.readings == memory.state.readings)
        var written = SnapshotWriter()
        restored.write(to: &written)
        var current = SnapshotWriter()
        memory.write(to: &current)
        #expect(written.bytes.count == current.bytes.count, "written back in the current layout")
    }
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct FeedbackServiceTests {
    @Test func aDismissedFaultStaysQuietThroughTheBrokerWhileAnotherChannelsFaultAlerts() async throws {
        let mesh = try TestMesh()
        let metrics = TestMetrics()
        let scorer = try RunningScorer(mesh: mesh, modelPath: try writeModel(), metrics: metrics) { settings in
            settings.detection.warmUp = 100
        }
        // Read from the start, while the scorer joins its group too (joining takes seconds): the
        // two faults that alert make at least 36 anomalies, and anything the replay caused would
        // come before the second's.
        async let anomalies = mesh.read("anomalies", count: 36, settle: 0.5, within: 60)
        var random = RandomSource(seed: 12)
        var minute: Int64 = 0
        /// One reading of edge-fb a minute after the last, around (24 °C, 1005 hPa, 0.02 g), with
        /// temperature or pressure off by `sigmas` of its noise.
        func next(temperatureSigmas: Double = 0, pressureSigmas: Double = 0) -> InboundEvent {
            minute += 1
            return .reading(
                Reading(
                    id: "fb-r\(minute)", ts: Timestamp.format(millisecondsSinceEpoch: minute * 60_000),
                    deviceID: "edge-fb",
                    temperature: ((24 + 0.5 * (random.nextGaussian() + temperatureSigmas)) * 100).rounded() / 100,
                    pressure: ((1005 + 3 * (random.nextGaussian() + pressureSigmas)) * 100).rounded() / 100,
                    vibration: ((0.02 + 0.002 * random.nextGaussian()) * 10_000).rounded() / 10_000))
        }
        func readings(_ count: Int, temperatureSigmas: Double = 0, pressureSigmas: Double = 0) -> [InboundEvent] {
            (0..<count).map { _ in next(temperatureSigmas: temperatureSigmas, pressureSigmas: pressureSigmas) }
        }

        // Warm (100), then a fault: temperature 8 of its spreads high for 20 readings; then
        // normal until the episode closes.
        let fault = readings(20, temperatureSigmas: 8)
        try await mesh.send(readings(120) + fault + readings(15))
        try await eventually(30, "155 readings scored") { scorer.worker.scoredCount == 155 }
        #expect(metrics.total("alertron_scorer_episodes_total", ("event", "opened")) == 1)

        // The episode opened at the fault's first reading, as the anomalies show at the end; a
        // verdict on another episode would be stale.
        let episode = "edge-fb/\(fault[0].id)"
        let verdict = Feedback(
            id: "incident-7/not_anomaly", ts: Timestamp.now(), verdict: .notAnomaly, subject: .device("edge-fb"),
            episodeID: episode, readings: fault.map(\.id), user: "U024BE7LH", incident: "incident-7")
        try await mesh.send(
            [("edge-fb", EventWriter.encode(verdict)), ("edge-fb", Array("{broken".utf8))], to: Topic.feedback)
        // Counted once the batch's output, the dead letter on feedback.dlq among it, was acknowledged.
        try await eventually(20, "the verdict applied, the broken one dead-lettered") {
            metrics.total("alertron_scorer_feedback_total", ("outcome", "applied")) == 1
                && metrics.total("alertron_scorer_feedback_total", ("outcome", "invalid")) == 1
        }

        // The same fault again (its own noise), then a fault of pressure.
        let replay = readings(20, temperatureSigmas: 8)
        let other = readings(20, pressureSigmas: 8)
        try await mesh.send(readings(15) + replay + readings(15) + other + readings(15))
        try await eventually(30, "every reading scored") { scorer.worker.scoredCount == 155 + 85 }
        let all = try await anomalies.compactMap(\.scored)
        let flagged = Set(all.map(\.event.id))
        #expect(flagged.intersection(fault.map(\.id)).count >= 18, "the fault must alert the first time")
        #expect(all.first { $0.event.id == fault[0].id }?.episode == EpisodeMark(id: episode, state: .opened))
        #expect(flagged.isDisjoint(with: replay.map(\.id)), "the dismissed fault alerted again")
        #expect(flagged.intersection(other.map(\.id)).count >= 18, "the pressure fault must alert")
        _ = await scorer.stop()
    }

    @Test func aLogTemplateMarkedRoutineStaysQuietAfterARestart() async throws {
        let mesh = try TestMesh()
        let metrics = TestMetrics()
        let path = try writeModel()
        let first = try RunningScorer(mesh: mesh, modelPath: path, metrics: metrics)
        let disk = { (n: Int) in logEvent("db-1", "md\(n % 4): Disk failure on sdb\(n % 8), disabling device") }
        let oom = { (n: Int) in logEvent("db-1", "Out of memory: Killed process \(n) (java) total-vm:\(n * 3)kB") }
        let opening = [disk(1), oom(2)]
        try await mesh.send(opening.map { .log($0) })
        try await eventually(30, "two lines scored") { first.worker.scoredCount == 2 }
        let before = try await mesh.read("scored", count: 2).compactMap(\.scored)
        try #require(before.count == 2 && before.allSatisfy(\.anomaly), "both lines are critical at first")
        let template = try #require(before.first { $0.event.id == opening[0].id }?.template?.id)

        let verdict = Feedback(
            id: "log:db-1/l1/not_anomaly", ts: Timestamp.now(), verdict: .notAnomaly, subject: .logSource("db-1"),
            episodeID: nil, readings: [opening[0].id], user: "U024BE7LH", incident: "log:db-1/l1",
            templates: [template])
        try await mesh.send([("db-1", EventWriter.encode(verdict))], to: Topic.feedback)
        try await eventually(20, "the verdict applied") {
            metrics.total("alertron_scorer_feedback_total", ("outcome", "applied")) == 1
        }
        let quieted = disk(3)
        try await mesh.send([.log(quieted)])
        try await eventually(20, "the third line scored") { first.worker.scoredCount == 3 }
        _ = await first.stop()

        // A new process restores db-1's templates, and what people said, from the state topic.
        let second = try RunningScorer(mesh: mesh, modelPath: path)
        let after = [disk(5), oom(6)]
        try await mesh.send(after.map { .log($0) })
        try await eventually(40, "the restarted scorer scored both") { second.worker.scoredCount >= 2 }
        let scored = try await mesh.read("scored", count: 5).compactMap(\.scored)
        func judged(_ event: Events.LogEvent) -> ScoredEvent? { scored.last { $0.event.id == event.id } }
        #expect(judged(quieted)?.anomaly == false && judged(quieted)?.template?.id == template)
        #expect(judged(after[0])?.anomaly == false, "the restart forgot what people said")
        #expect(judged(after[0])?.explanation?.detector == "people")
        #expect(judged(after[1])?.anomaly == true, "another template still alerts")
        _ = await second.stop()
    }
}
