// One batch in, the right messages out: scored, anomalies, dead letters. No broker needed.
import Events
import Kafka
import Models
import Foundation
import Testing
@testable import Scorer

@Suite struct BatchScorerTests {
    private func message(_ payload: [UInt8]?, offset: Int64, key: String = "edge-1") -> KafkaConsumerMessage {
        KafkaConsumerMessage(topic: "readings", partition: 2, offset: offset, key: ArraySlice(key.utf8),
                             value: payload.map { ArraySlice($0) }, timestampMilliseconds: nil)
    }

    @Test func eachKindOfInputEndsUpInTheRightTopicWithItsKey() throws {
        let normal = reading("edge-1")
        let extreme = reading("edge-2", temperature: 95, pressure: 900, vibration: 0.9)
        let log = LogEvent(id: EventID.generate(), ts: Timestamp.now(), source: "kernel", message: "disk failure")
        let batch = KafkaConsumerBatch(messages: [
            message(EventWriter.encode(.reading(normal)), offset: 10, key: "edge-1"),
            message(EventWriter.encode(.reading(extreme)), offset: 11, key: "edge-2"),
            message(Array(#"{"schema":1,"kind":"reading","id":"x","ts":"2026-11-21T07:00:00Z","device_id":"edge-3","temperature":"hot","pressure":1,"vibration":1}"#.utf8), offset: 12),
            message(Array("not json".utf8), offset: 13),
            message(nil, offset: 14),
            message(EventWriter.encode(.log(log)), offset: 15, key: "kernel"),
        ])
        var scorer = BatchScorer(settings: ScorerSettings(modelPath: "unused"))
        var output = KafkaProducerBatch()
        let columns = try SensorFeature.columns(for: sensorModel).get()
        let outcome = scorer.score(batch, model: sensorModel, columns: columns, scoredAt: Timestamp.now(), into: &output)

        #expect(outcome.scored == 2)
        #expect(outcome.anomalies.map(\.device) == ["edge-2"])
        #expect(outcome.deadLetters == ["wrong_type": 1, "malformed_json": 1, "empty_message": 1, "no_log_model": 1])
        let sent = output.sentMessages()
        let scored = sent.filter { $0.topic == "scored" }.map { try! EventCodec.decodeScored($0.value) }
        #expect(scored.map(\.event.id) == [normal.id, extreme.id])
        #expect(scored.allSatisfy { $0.model == sensorModel.version })
        #expect(scored[0].anomaly == false && scored[0].severity == .none)
        #expect(scored[1].anomaly && scored[1].severity != .none)
        #expect(sent.filter { $0.topic == "anomalies" }.map(\.key) == ["edge-2"])
        #expect(sent.filter { $0.topic == "scored" }.map(\.key) == ["edge-1", "edge-2"])

        let letters = sent.filter { $0.topic == "readings.dlq" }.map { try! EventCodec.decodeDeadLetter($0.value) }
        #expect(letters.map(\.sourceOffset) == [12, 13, 14, 15])
        #expect(letters.allSatisfy { $0.sourceTopic == "readings" && $0.sourcePartition == 2 && $0.rejectedBy == "scorer" })
        #expect(letters[0].reason.contains("temperature"))
        #expect(letters[1].payload == Array("not json".utf8))
    }

    @Test func aSingleSensorSpikeFarOutsideTheTrainingRangeIsCriticalThoughTheForestScoresItNormal() throws {
        let spike = reading("edge-7", temperature: 60)   // pressure and vibration normal
        let batch = KafkaConsumerBatch(messages: [message(EventWriter.encode(.reading(spike)), offset: 1, key: "edge-7")])
        let columns = try SensorFeature.columns(for: sensorModel).get()
        #expect(!sensorModel.isAnomaly(score: sensorModel.score([60, 1013, 0.02])), "the forest alone misses it")

        var scorer = BatchScorer(settings: ScorerSettings(modelPath: "unused"))
        var output = KafkaProducerBatch()
        let outcome = scorer.score(batch, model: sensorModel, columns: columns, scoredAt: Timestamp.now(), into: &output)
        #expect(outcome.outOfRange == 1)
        let scored = try EventCodec.decodeScored(output.sentMessages()[0].value)
        #expect(scored.anomaly && scored.severity == .critical)
        #expect(scored.score == sensorModel.score([60, 1013, 0.02]), "the score stays the forest's")
        #expect(output.sentMessages().map(\.topic) == ["scored", "anomalies"])

        var settings = ScorerSettings(modelPath: "unused")
        settings.rangeTolerance = 0
        var unguarded = BatchScorer(settings: settings)
        var quiet = KafkaProducerBatch()
        _ = unguarded.score(batch, model: sensorModel, columns: columns, scoredAt: Timestamp.now(), into: &quiet)
        #expect(quiet.sentMessages().map(\.topic) == ["scored"], "with the check off only the forest decides")
    }

    @Test func anOversizedBadMessageBecomesACappedDeadLetterTheBrokerWillTake() throws {
        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: 700_000)
        var scorer = BatchScorer(settings: ScorerSettings(modelPath: "unused"))
        var output = KafkaProducerBatch()
        let columns = try SensorFeature.columns(for: sensorModel).get()
        _ = scorer.score(KafkaConsumerBatch(messages: [message(huge, offset: 7)]), model: sensorModel, columns: columns,
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

    @Test func batchSizesOutsideWhatTheProducerQueueHoldsAreRefused() throws {
        #expect(throws: (any Error).self) { _ = try ScorerOptions.parse(["--batch-size", "60000"]).resolve() }
        #expect(throws: (any Error).self) { _ = try ScorerOptions.parse(["--batch-size", "0"]).resolve() }
        #expect(try ScorerOptions.parse(["--batch-size", "5000"]).resolve().batchSize == 5000)
    }

    @Test func aModelWithFeaturesReadingsDoNotHaveIsRefused() throws {
        let other = try IsolationForest.train(try FeatureMatrix(rows: (0..<300).map { [Double($0), Double($0 % 7)] }),
                                              featureNames: ["temperature", "humidity"], parameters: .init())
        guard case .failure(let mismatch) = SensorFeature.columns(for: other) else {
            Issue.record("a model using 'humidity' was accepted")
            return
        }
        #expect(mismatch.description.contains("humidity"))
    }

    @Test func theModelStoreKeepsServingWhenANewFileLoadsButCannotScoreReadings() throws {
        let path = try writeModel()
        let store = ModelStore(path: path, reloadInterval: .zero, logger: quietLogger) { model in
            if case .failure(let mismatch) = SensorFeature.columns(for: model) { return mismatch.description }
            return nil
        }
        #expect(store.current?.version == sensorModel.version)
        let other = try IsolationForest.train(try FeatureMatrix(rows: (0..<300).map { [Double($0), Double($0 % 7)] }),
                                              featureNames: ["temperature", "humidity"], parameters: .init())
        try other.write(to: path)
        #expect(store.reload(reason: "test") == false)
        #expect(store.current?.version == sensorModel.version)
        #expect(store.lastError?.contains("humidity") == true)
    }
}

extension KafkaProducerBatch {
    /// The batch's messages as (topic, key, value), for assertions.
    func sentMessages() -> [(topic: String, key: String?, value: [UInt8])] {
        (0..<count).map { index in
            let (topic, key, value) = message(at: index)
            return (topic, key.map { String(decoding: $0, as: UTF8.self) }, value)
        }
    }
}
