// One batch in, the right messages out: scored, anomalies, dead letters. No broker needed.
import Events
import Kafka
import MetricsTestKit
import Models
import Foundation
import Telemetry
import Testing
@testable import Scorer

@Suite(.computeThread) struct BatchScorerTests {
    private func message(_ payload: [UInt8]?, offset: Int64, key: String = "edge-1") -> KafkaConsumerMessage {
        KafkaConsumerMessage(
            topic: "readings", partition: 2, offset: offset, key: ArraySlice(key.utf8),
            value: payload.map { ArraySlice($0) }, timestampMilliseconds: nil)
    }

    @Test func eachKindOfInputEndsUpInTheRightTopicWithItsKey() throws {
        let normal = reading("edge-1")
        let extreme = reading("edge-2", temperature: 95, pressure: 900, vibration: 0.9)
        let log = logEvent("kernel", "md1: Disk failure on sdb3, disabling device")
        let batch = KafkaConsumerBatch(messages: [
            message(EventWriter.encode(.reading(normal)), offset: 10, key: "edge-1"),
            message(EventWriter.encode(.reading(extreme)), offset: 11, key: "edge-2"),
            message(
                Array(
                    #"{"schema":1,"kind":"reading","id":"x","ts":"2026-11-21T07:00:00Z","device_id":"edge-3","temperature":"hot","pressure":1,"vibration":1}"#
                        .utf8), offset: 12),
            message(Array("not json".utf8), offset: 13),
            message(nil, offset: 14),
            message(EventWriter.encode(.log(log)), offset: 15, key: "kernel"),
        ])
        var scorer = BatchScorer(settings: ScorerSettings())
        var output = KafkaProducerBatch()
        let outcome = scorer.score(batch, models: try models(), scoredAt: Timestamp.now(), into: &output)

        #expect(outcome.scored == 2)
        #expect(outcome.anomalies.map(\.device) == ["edge-2"])
        #expect(outcome.deadLetters == ["wrong_type": 1, "malformed_json": 1, "empty_message": 1])
        #expect(outcome.criticalLogs == 1 && outcome.routineLogs == 0)
        let sent = output.sentMessages()
        let scored = sent.filter { $0.topic == "scored" }.map { try! EventCodec.decodeScored($0.value) }
        #expect(scored.map(\.event.id) == [normal.id, extreme.id, log.id])
        #expect(scored[0...1].allSatisfy { $0.model == sensorModel.version })
        #expect(scored[0].anomaly == false && scored[0].severity == .none)
        #expect(scored[1].anomaly && scored[1].severity != .none)
        #expect(scored[2].model == logModel.version && scored[2].anomaly && scored[2].severity == .critical)
        #expect(
            scored[2].score == logModel.probability(of: log.message), "a log's score is the probability of critical")
        #expect(sent.filter { $0.topic == "anomalies" }.map(\.key) == ["edge-2", "kernel"])
        #expect(sent.filter { $0.topic == "scored" }.map(\.key) == ["edge-1", "edge-2", "kernel"])

        let letters = sent.filter { $0.topic == "readings.dlq" }.map { try! EventCodec.decodeDeadLetter($0.value) }
        #expect(letters.map(\.sourceOffset) == [12, 13, 14])
        #expect(
            letters.allSatisfy { $0.sourceTopic == "readings" && $0.sourcePartition == 2 && $0.rejectedBy == "scorer" })
        #expect(letters[0].reason.contains("temperature"))
        #expect(letters[1].payload == Array("not json".utf8))
    }

    @Test func aSingleSensorSpikeFarOutsideTheTrainingRangeIsCriticalThoughTheForestScoresItNormal() throws {
        let spike = reading("edge-7", temperature: 60)  // pressure and vibration normal
        let batch = KafkaConsumerBatch(messages: [
            message(EventWriter.encode(.reading(spike)), offset: 1, key: "edge-7")
        ])
        #expect(!sensorModel.isAnomaly(score: sensorModel.score([60, 1013, 0.02])), "the forest alone misses it")

        var scorer = BatchScorer(settings: ScorerSettings())
        var output = KafkaProducerBatch()
        let outcome = scorer.score(batch, models: try models(), scoredAt: Timestamp.now(), into: &output)
        #expect(outcome.outOfRange == 1)
        let scored = try EventCodec.decodeScored(output.sentMessages()[0].value)
        #expect(scored.anomaly && scored.severity == .critical)
        #expect(scored.score == sensorModel.score([60, 1013, 0.02]), "the score stays the forest's")
        #expect(output.sentMessages().map(\.topic) == ["scored", "anomalies", Topic.scorerState])

        var settings = ScorerSettings()
        settings.rangeTolerance = 0
        var unguarded = BatchScorer(settings: settings)
        var quiet = KafkaProducerBatch()
        _ = unguarded.score(batch, models: try models(), scoredAt: Timestamp.now(), into: &quiet)
        #expect(
            quiet.sentMessages().map(\.topic) == ["scored", Topic.scorerState],
            "with the check off only the forest decides")
    }

    @Test func anOversizedBadMessageBecomesACappedDeadLetterTheBrokerWillTake() throws {
        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: 700_000)
        var scorer = BatchScorer(settings: ScorerSettings())
        var output = KafkaProducerBatch()
        _ = scorer.score(
            KafkaConsumerBatch(messages: [message(huge, offset: 7)]), models: try models(),
            scoredAt: Timestamp.now(), into: &output)
        let sent = output.sentMessages()
        #expect(sent.count == 1)
        #expect(sent[0].value.count < 300_000, "the dead letter must stay far below the broker's 1 MB limit")
        let letter = try EventCodec.decodeDeadLetter(sent[0].value)
        #expect(letter.payload.count == BatchScorer.deadLetterPayloadLimit)
        #expect(letter.reason.contains("truncated"))
        #expect(letter.reason.contains("700000"))
        #expect(letter.sourceOffset == 7)
    }

    @Test func criticalLogLinesGoToAnomaliesAndRoutineOnesOnlyToScored() throws {
        let lines = labeledLogs(count: 60, seed: 9)
        let events = lines.map { logEvent("host-1", $0.message) }
        let batch = KafkaConsumerBatch(
            messages: events.enumerated().map {
                message(EventWriter.encode(.log($1)), offset: Int64($0), key: "host-1")
            })
        var scorer = BatchScorer(settings: ScorerSettings())
        var output = KafkaProducerBatch()
        let outcome = scorer.score(batch, models: try models(), scoredAt: Timestamp.now(), into: &output)

        let critical = lines.count { $0.critical }
        #expect(outcome.criticalLogs == critical && outcome.routineLogs == lines.count - critical)
        #expect(outcome.scored == 0 && outcome.anomalies.isEmpty, "logs are not sensor anomalies")
        let sent = output.sentMessages()
        let scored = sent.filter { $0.topic == "scored" }.map { try! EventCodec.decodeScored($0.value) }
        #expect(scored.map(\.event.id) == events.map(\.id), "every line scored, in order")
        #expect(
            zip(scored, lines).allSatisfy {
                $0.anomaly == $1.critical && $0.severity == ($1.critical ? .critical : .none)
            })
        let anomalies = sent.filter { $0.topic == "anomalies" }.map { try! EventCodec.decodeScored($0.value) }
        #expect(anomalies.map(\.event.id) == zip(events, lines).filter { $1.critical }.map { $0.0.id })
    }

    @Test func everyLogLineCarriesItsTemplateAndANewTemplateAfterTheWarmUpSaysSo() throws {
        var settings = ScorerSettings()
        settings.logs.warmUpLines = 40
        settings.logs.noveltyProbability = 0.05
        // The source's everyday lines, then one it has never said, that the classifier leans to.
        let routine = (0..<40).map { logEvent("db-1", "checkpoint complete: wrote \($0) buffers") }
        let novel = logEvent("db-1", "could not fsync file base/16384/2619: Input/output error")
        let batch = KafkaConsumerBatch(
            messages: (routine + [novel]).enumerated().map {
                message(EventWriter.encode(.log($1)), offset: Int64($0), key: "db-1")
            })
        var scorer = BatchScorer(settings: settings)
        var output = KafkaProducerBatch()
        let outcome = scorer.score(batch, models: try models(), scoredAt: Timestamp.now(), into: &output)
        let scored = output.sentMessages().filter { $0.topic == "scored" }.map {
            try! EventCodec.decodeScored($0.value)
        }
        #expect(scored.count == 41)
        #expect(Set(scored.prefix(40).map { $0.template?.id }).count == 1, "one template for the routine lines")
        #expect(scored[0].template?.text == "checkpoint complete wrote <num> buffers")
        let last = try #require(scored.last)
        #expect(last.template?.id != scored[0].template?.id)
        #expect(last.anomaly && last.explanation != nil)
        if last.explanation?.detector == "new_template" {
            #expect(last.explanation?.summary?.hasPrefix("new template on db-1: `could not fsync file ") == true)
            #expect(outcome.logReasons[.newTemplate] == 1)
        } else {
            #expect(last.explanation?.detector == "classifier", "the classifier alone already calls it critical")
        }
    }

    @Test func logLinesTooLongOrNotUTF8AreDeadLetteredWithTheReason() throws {
        let long = EventWriter.encode(
            .log(logEvent("host-1", String(repeating: "a", count: LogEvent.maxMessageBytes + 1))))
        var invalid = Array(
            #"{"schema":1,"kind":"log","id":"l1","ts":"2026-11-21T07:00:00Z","source":"host-1","message":"bad "#.utf8)
        invalid += [0xC3, 0x28] + Array(#""}"#.utf8)
        let batch = KafkaConsumerBatch(messages: [
            message(long, offset: 1, key: "host-1"), message(invalid, offset: 2, key: "host-1"),
        ])
        var scorer = BatchScorer(settings: ScorerSettings())
        var output = KafkaProducerBatch()
        let outcome = scorer.score(batch, models: try models(), scoredAt: Timestamp.now(), into: &output)
        #expect(outcome.deadLetters == ["too_large": 1, "malformed_json": 1])
        let letters = output.sentMessages().map { try! EventCodec.decodeDeadLetter($0.value) }
        #expect(letters.count == 2)
        #expect(letters[0].reason.contains("message") && letters[0].reason.contains("8192"))
        #expect(letters[1].reason.contains("UTF-8"))
    }

    @Test func batchSizesOutsideWhatTheProducerQueueHoldsAreRefused() throws {
        func resolve(_ arguments: [String]) throws -> ScorerSettings {
            try ScorerSettings.resolve(arguments, environment: [:], defaults: ScorerSettings())
        }
        #expect(throws: SettingsError("--batch-size / SCORER_BATCH_SIZE must be between 1 and 50000")) {
            _ = try resolve(["--batch-size", "60000"])
        }
        #expect(throws: SettingsError.self) { _ = try resolve(["--batch-size", "0"]) }
        #expect(try resolve(["--batch-size", "5000"]).batchSize == 5000)
    }

    @Test func aModelWithAFeatureNoChannelCanBeNamedIsRefused() throws {
        let other = try IsolationForest.train(
            try FeatureMatrix(rows: (0..<300).map { [Double($0), Double($0 % 7)] }),
            featureNames: ["temperature", "Humidity %"], parameters: .init())
        let mismatch = try #require(other.channelMismatch, "a model using 'Humidity %' was accepted")
        #expect(mismatch.description.contains("Humidity %"))
        #expect(sensorModel.channelMismatch == nil)
    }

    @Test func theModelStoreKeepsServingWhenANewFileLoadsButCannotScoreReadings() throws {
        let path = try writeModel()
        let store = ModelStore<IsolationForest>(
            path: path, reloadInterval: .zero, metrics: ScorerMetrics(MetricHandles(factory: TestMetrics())),
            logger: quietLogger
        ) { $0.channelMismatch?.description }
        #expect(store.current?.version == sensorModel.version)
        let other = try IsolationForest.train(
            try FeatureMatrix(rows: (0..<300).map { [Double($0), Double($0 % 7)] }),
            featureNames: ["temperature", "Humidity %"], parameters: .init())
        try other.write(to: path)
        #expect(store.reload(reason: "test") == false)
        #expect(store.current?.version == sensorModel.version)
        #expect(store.lastError?.contains("Humidity %") == true)
    }

    @Test func aWarmDeviceIsJudgedByItsOwnNormalInEpisodesThatSayWhy() throws {
        var settings = ScorerSettings()
        settings.detection.warmUp = 100
        var scorer = BatchScorer(settings: settings)
        var stream = DeviceStream()
        func next(vibrationOffset: Double = 0) -> KafkaConsumerMessage { stream.next(vibrationOffset: vibrationOffset) }
        var ended: [EpisodeClosed] = []
        var outcome = BatchScorer.Outcome()
        func score(_ messages: [KafkaConsumerMessage]) throws -> [ScoredEvent] {
            var output = KafkaProducerBatch()
            outcome = scorer.score(
                KafkaConsumerBatch(messages: messages), models: try models(), scoredAt: Timestamp.now(), into: &output)
            for message in output.sentMessages() where message.topic == "anomalies" {
                if case .episodeClosed(let closed) = try EventCodec.decodeAnomaly(message.value) {
                    ended.append(closed)
                }
            }
            return output.sentMessages().filter { $0.topic == "scored" }.map { try! EventCodec.decodeScored($0.value) }
        }

        _ = try score((0..<99).map { _ in next() })
        #expect(outcome.devicesLearning == 1 && outcome.devicesJudged == 0)
        let learning = try score([next()])
        #expect(learning.allSatisfy { $0.model == sensorModel.version }, "the fleet model judges while it learns")
        #expect(scorer.devices["edge-5"]?.state.isLearning == false)
        #expect(outcome.devicesLearning == 0 && outcome.devicesJudged == 1)

        // Ten of its own standard deviations, well inside what the fleet calls normal vibration.
        let verdicts = try score(
            (0..<50).map { _ in next() } + (0..<3).map { _ in next(vibrationOffset: 0.02) }
                + (0..<12).map { _ in next() }
                + [next(vibrationOffset: 0.02)])
        #expect(verdicts.allSatisfy { $0.model == DeviceJudge.baselineModel })
        let anomalies = verdicts.filter(\.anomaly)
        #expect(anomalies.map(\.event.id) == ["r151", "r152", "r153", "r166"])
        #expect(anomalies.map { $0.episode?.state } == [.opened, .continues, .continues, .opened])
        #expect(anomalies[0...2].allSatisfy { $0.episode?.id == "edge-5/r151" })
        #expect(anomalies[3].episode?.id == "edge-5/r166")
        let why = try #require(anomalies[0].explanation)
        #expect(why.detector == "spike")
        let channel = try #require(why.channels.first)
        #expect(channel.name == "vibration")
        #expect(abs(channel.expected - 0.02) < 0.001 && abs(channel.spread - 0.002) < 0.0007)
        #expect(channel.sigmas > 6)
        #expect(anomalies.allSatisfy { $0.severity != .none })
        #expect(outcome.episodesOpened == 2 && outcome.episodesClosed == 1)
        // Ten normal readings after r153 end the first episode, at r163, on the anomalies topic.
        #expect(ended.map(\.episodeID) == ["edge-5/r151"])
        #expect(ended.first?.ts == Timestamp.format(millisecondsSinceEpoch: 163 * 60_000))
    }

    @Test func aDeviceMidEpisodeMovesToAnotherReplicaByItsStateRecordAndIsNotLearnedTwice() throws {
        var settings = ScorerSettings()
        settings.detection.warmUp = 100
        var stream = DeviceStream()
        /// Scores `messages` on `scorer`: the scored events, and the state records written.
        func score(
            _ messages: [KafkaConsumerMessage], on scorer: inout BatchScorer
        ) throws -> (
            scored: [ScoredEvent], state: [(key: String?, value: [UInt8])]
        ) {
            var output = KafkaProducerBatch()
            _ = scorer.score(
                KafkaConsumerBatch(messages: messages), models: try models(), scoredAt: Timestamp.now(), into: &output)
            let sent = output.sentMessages()
            #expect(output.partitions(of: Topic.scorerState).allSatisfy { $0 == 2 }, "beside the input partition")
            return (
                try sent.filter { $0.topic == "scored" }.map { try EventCodec.decodeScored($0.value) },
                sent.filter { $0.topic == Topic.scorerState }.map { ($0.key, $0.value) }
            )
        }

        var first = BatchScorer(settings: settings)
        let learning = try score((0..<100).map { _ in stream.next() }, on: &first)
        #expect(learning.state.map(\.key) == ["edge-5"], "one record per device per batch")
        let opened = try score(
            (0..<10).map { _ in stream.next() } + [stream.next(vibrationOffset: 0.02)], on: &first)
        let episode = try #require(opened.scored.last?.episode)
        #expect(episode.state == .opened)
        let record = try #require(opened.state.last)

        // The partition moves: the next owner restores the device before scoring it.
        var second = BatchScorer(settings: settings)
        let spike = stream.next(vibrationOffset: 0.02)
        #expect(second.partitionsToRestore(in: KafkaConsumerBatch(messages: [spike])) == [2])
        let restored = second.restore(
            partition: 2,
            records: [Array("edge-5".utf8): record.value, Array("edge-9".utf8): Array("not a state record".utf8)])
        #expect(restored.restored == 1 && restored.discarded == 1)
        #expect(second.partitionsToRestore(in: KafkaConsumerBatch(messages: [spike])).isEmpty)
        let continued = try score([spike], on: &second)
        #expect(continued.scored.map(\.model) == [DeviceJudge.baselineModel], "warm, not learning again")
        #expect(continued.scored.first?.episode == EpisodeMark(id: episode.id, state: .continues))

        // Redelivered after a crash: judged again, not learned from twice.
        let learned = try #require(second.devices["edge-5"]?.state.readings)
        let again = try score([spike], on: &second)
        #expect(again.scored.first?.episode?.id == episode.id)
        #expect(again.state.isEmpty && second.devices["edge-5"]?.state.readings == learned)

        // A rebalance that moves the partition away drops its devices; getting it back restores them.
        second.forget(partitions: [2])
        #expect(second.devices.isEmpty)
        #expect(second.partitionsToRestore(in: KafkaConsumerBatch(messages: [spike])) == [2])
    }
}

extension BatchScorerTests {
    @Test func eachProfileIsJudgedByItsOwnModelOrByItsDevicesBaselineAlone() throws {
        var random = RandomSource(seed: 9)
        let pumpModel = try IsolationForest.train(
            try FeatureMatrix(
                rows: (0..<400).map { _ in [30 + random.nextGaussian(), 1.3 + 0.05 * random.nextGaussian()] }),
            featureNames: ["flow", "current"], parameters: .init())
        let models = BatchScorer.Models(
            sensors: [Reading.defaultProfile: sensorModel, "pump": pumpModel], log: logModel)
        var settings = ScorerSettings()
        settings.detection.warmUp = 100
        var scorer = BatchScorer(settings: settings)
        var offset: Int64 = 0
        func message(
            _ device: String, profile: String, _ channels: [Reading.Channel], minute: Int
        ) -> KafkaConsumerMessage {
            offset += 1
            let reading = Reading(
                id: "\(device)-r\(minute)", ts: Timestamp.format(millisecondsSinceEpoch: Int64(minute) * 60_000),
                deviceID: device, profile: profile, channels: channels)
            return KafkaConsumerMessage(
                topic: "readings", partition: 1, offset: offset, key: ArraySlice(device.utf8),
                value: ArraySlice(EventWriter.encode(.reading(reading))), timestampMilliseconds: nil)
        }
        func pump(_ minute: Int) -> KafkaConsumerMessage {
            message(
                "pump-1", profile: "pump",
                [.init("flow", 30 + random.nextGaussian()), .init("current", 1.3 + 0.05 * random.nextGaussian())],
                minute: minute)
        }
        func fan(_ minute: Int, rpm: Double = 0) -> KafkaConsumerMessage {
            message("fan-1", profile: "fan", [.init("rpm", 1200 + 10 * random.nextGaussian() + rpm)], minute: minute)
        }
        func score(
            _ messages: [KafkaConsumerMessage]
        ) -> (BatchScorer.Outcome, [(topic: String, key: String?, value: [UInt8])]) {
            var output = KafkaProducerBatch()
            let outcome = scorer.score(
                KafkaConsumerBatch(messages: messages), models: models, scoredAt: Timestamp.now(), into: &output)
            return (outcome, output.sentMessages())
        }

        let lacking = message("pump-2", profile: "pump", [.init("flow", 31)], minute: 1)
        let (learning, sent) = score((1...50).flatMap { [pump($0), fan($0)] } + [lacking])
        let scored = sent.filter { $0.topic == "scored" }.map { try! EventCodec.decodeScored($0.value) }
        #expect(scored.filter { $0.event.key == "pump-1" }.allSatisfy { $0.model == pumpModel.version })
        #expect(
            scored.filter { $0.event.key == "fan-1" }.allSatisfy {
                $0.model == DeviceJudge.baselineModel && !$0.anomaly
            })
        #expect(learning.withoutModel == ["fan": 50])
        let letter = try #require(
            sent.first { $0.topic == "readings.dlq" }.map { try EventCodec.decodeDeadLetter($0.value) })
        #expect(
            letter.reasonCode == "missing_field" && letter.reason.contains("'current'")
                && letter.reason.contains("pump"))

        // Past its warm-up the fan is judged by its own normal, which names its channel.
        _ = score((51...120).map { fan($0) })
        let (_, spiked) = score([fan(121, rpm: 200)])
        let verdict = try #require(
            spiked.first { $0.topic == "anomalies" }.map { try EventCodec.decodeScored($0.value) })
        #expect(verdict.model == DeviceJudge.baselineModel && verdict.explanation?.channels.first?.name == "rpm")
        #expect(
            scorer.devices["fan-1"]?.columns == ["rpm"] && scorer.devices["pump-1"]?.columns == ["flow", "current"])
    }
}

/// One device (edge-5) with readings a minute apart around (24 °C, 1005 hPa, 0.02 g), as
/// messages of partition 2 at offsets 1, 2, ...
struct DeviceStream {
    private var random = RandomSource(seed: 5)
    private var minute: Int64 = 0

    mutating func next(vibrationOffset: Double = 0) -> KafkaConsumerMessage {
        minute += 1
        let reading = Reading(
            id: "r\(minute)", ts: Timestamp.format(millisecondsSinceEpoch: minute * 60_000), deviceID: "edge-5",
            temperature: ((24 + 0.5 * random.nextGaussian()) * 100).rounded() / 100,
            pressure: ((1005 + 3 * random.nextGaussian()) * 100).rounded() / 100,
            vibration: ((0.02 + 0.002 * random.nextGaussian() + vibrationOffset) * 10_000).rounded() / 10_000)
        return KafkaConsumerMessage(
            topic: "readings", partition: 2, offset: minute, key: ArraySlice("edge-5".utf8),
            value: ArraySlice(EventWriter.encode(.reading(reading))), timestampMilliseconds: nil)
    }
}

/// The test models as a batch is scored with them.
func models() throws -> BatchScorer.Models {
    BatchScorer.Models(sensors: [Reading.defaultProfile: sensorModel], log: logModel)
}

extension KafkaProducerBatch {
    /// The partitions named by the messages to `topic` (nil where the key decides).
    func partitions(of topic: String) -> [Int32?] {
        (0..<count).filter { message(at: $0).topic == topic }.map { partition(at: $0) }
    }

    /// The batch's messages as (topic, key, value), for assertions.
    func sentMessages() -> [(topic: String, key: String?, value: [UInt8])] {
        (0..<count).map { index in
            let (topic, key, value) = message(at: index)
            return (topic, key.map { String(decoding: $0, as: UTF8.self) }, value)
        }
    }
}

@Suite struct ProfileModelsTests {
    @Test func eachProfilesFileIsServedNewOnesArePickedUpAndABadOneRefused() async throws {
        let directory = temporaryPath("profiles")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func model(_ features: [String], seed: UInt64) throws -> IsolationForest {
            var random = RandomSource(seed: seed)
            return try IsolationForest.train(
                try FeatureMatrix(rows: (0..<300).map { _ in features.map { _ in random.nextGaussian() } }),
                featureNames: features, parameters: .init(seed: seed))
        }
        let pump = try model(["flow", "current"], seed: 1)
        try pump.write(to: directory + "/pump.json")
        // Not profiles: the default profile's model is --model, and a name no profile can have.
        try model(["flow"], seed: 2).write(to: directory + "/default.json")
        try model(["flow"], seed: 3).write(to: directory + "/Pump Two.json")
        let metrics = ScorerMetrics(MetricHandles(factory: TestMetrics()))
        let profiles = ProfileModels(directory: directory, reloadInterval: .zero, metrics: metrics, logger: quietLogger)
        #expect(profiles.current.mapValues(\.version) == ["pump": pump.version])

        let fan = try model(["rpm"], seed: 4)
        try fan.write(to: directory + "/fan.json")
        // A pump model whose feature cannot name a channel: refused, the old one keeps serving.
        try model(["Flow Rate"], seed: 5).write(to: directory + "/pump.json")
        await profiles.refresh()
        #expect(profiles.current.mapValues(\.version) == ["pump": pump.version, "fan": fan.version])
    }
}
