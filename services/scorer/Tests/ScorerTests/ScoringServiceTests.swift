// The scoring service on a real Kafka-protocol broker: what it produces, what it does with
// bad input, and that it loses nothing when it crashes, scales out or reloads its model.
import Events
import Foundation
import Kafka
import Models
import MetricsTestKit
import Testing
@testable import Scorer

@Suite(.serialized, .timeLimit(.minutes(3))) struct ScoringServiceTests {
    @Test func everyReadingIsScoredAnomaliesAreSeparatedAndBadInputIsDeadLettered() async throws {
        let mesh = try TestMesh()
        let scorer = try RunningScorer(mesh: mesh, modelPath: try writeModel())
        let normal = (0..<40).map { reading("edge-\($0 % 8)") }
        let spikes = (0..<3).map { reading("edge-9\($0)", temperature: 90, pressure: 920, vibration: 0.8) }
        try await mesh.send((normal + spikes).map { .reading($0) })
        try await mesh.sendRaw([Array("{broken".utf8), Array(#"{"schema":2,"kind":"reading"}"#.utf8)])

        let scored = try await mesh.read("scored", count: 43).compactMap(\.scored)
        #expect(Set(scored.map(\.event.id)) == Set((normal + spikes).map(\.id)))
        let anomalies = try await mesh.read("anomalies", count: 3).compactMap(\.scored)
        #expect(Set(spikes.map(\.id)).isSubset(of: Set(anomalies.map(\.event.id))))
        #expect(anomalies.allSatisfy { $0.anomaly && $0.severity != .none && $0.model == sensorModel.version })
        let letters = try await mesh.read("readings.dlq", count: 2).compactMap(\.deadLetter)
        #expect(Set(letters.map(\.reasonCode)) == ["malformed_json", "unsupported_schema"])
        #expect(scorer.worker.scoredCount == 43)
        if case .failure(let error) = await scorer.stop() { Issue.record("shutdown failed: \(error)") }
    }

    @Test func aCrashBetweenDeliveryAndStoringOffsetsMeansTheBatchIsScoredAgainNotLost() async throws {
        let mesh = try TestMesh()
        let path = try writeModel()
        struct SimulatedCrash: Error {}
        let crashing = try RunningScorer(mesh: mesh, modelPath: path, beforeStoringOffsets: { throw SimulatedCrash() })
        let readings = (0..<60).map { reading("edge-\($0 % 12)") }
        try await mesh.send(readings.map { .reading($0) })
        guard case .failure = await crashing.ended() else {
            Issue.record("the worker should have died at the simulated crash")
            return
        }
        let scoredBeforeCrash = crashing.worker.scoredCount
        #expect(scoredBeforeCrash > 0)

        // A fresh scorer in the same group finds nothing stored and scores everything.
        let successor = try RunningScorer(mesh: mesh, modelPath: path)
        try await eventually(40, "the successor to score all 60") { successor.worker.scoredCount >= 60 }
        let scored = try await readTopic(
            "scored", kafka: mesh.kafka, count: 60 + scoredBeforeCrash, settle: 2, logger: quietLogger
        )
        .compactMap(\.scored)
        #expect(Set(scored.map(\.event.id)) == Set(readings.map(\.id)), "every reading is in scored")
        // Repeats are what was delivered but not stored when it crashed: at least the batch it
        // crashed on, at most every batch in flight then (here, all 60 readings).
        let repeats = scored.count - 60
        #expect(
            repeats >= scoredBeforeCrash && repeats <= 60,
            "\(repeats) repeats, \(scoredBeforeCrash) counted before the crash")
        _ = await successor.stop()
    }

    @Test func twoReplicasShareThePartitionsAndNoReadingIsLeftUnscored() async throws {
        let mesh = try TestMesh()
        let path = try writeModel()
        let first = try RunningScorer(mesh: mesh, modelPath: path)
        // Each replica is assigned partitions of readings and of feedback; readings' are the work.
        @Sendable func partitions(_ scorer: RunningScorer, of topic: String) async -> [Int32] {
            await scorer.worker.consumer.assignment().filter { $0.topic == topic }.map(\.partition).sorted()
        }
        try await eventually(20, "the first replica to own all 6 partitions") {
            await partitions(first, of: Topic.readings).count == 6
        }
        let second = try RunningScorer(mesh: mesh, modelPath: path)
        try await eventually(40, "a 3/3 split") {
            let mine = await partitions(first, of: Topic.readings)
            let theirs = await partitions(second, of: Topic.readings)
            return mine.count == 3 && theirs.count == 3
        }
        // A device's verdicts reach the replica that holds it: the same partition numbers of both.
        for replica in [first, second] {
            #expect(await partitions(replica, of: Topic.feedback) == partitions(replica, of: Topic.readings))
        }
        let readings = (0..<600).map { reading("device-\($0)") }
        try await mesh.send(readings.map { .reading($0) })
        try await eventually(40, "600 readings scored") { first.worker.scoredCount + second.worker.scoredCount >= 600 }
        #expect(first.worker.scoredCount > 0)
        #expect(second.worker.scoredCount > 0)
        let scored = try await mesh.read("scored", count: 600).compactMap(\.scored)
        #expect(Set(scored.map(\.event.id)) == Set(readings.map(\.id)))
        _ = await second.stop()
        _ = await first.stop()
    }

    @Test func aBrokenModelFileIsRefusedWhileTheOldModelKeepsServingUntilAGoodOneArrives() async throws {
        let mesh = try TestMesh()
        let path = try writeModel()
        let metrics = TestMetrics()
        let scorer = try RunningScorer(
            mesh: mesh, modelPath: path, reloadInterval: .milliseconds(200), metrics: metrics)
        try await mesh.send([.reading(reading("edge-1"))])
        try await eventually(20, "the first reading scored") { scorer.worker.scoredCount == 1 }

        try Data("{ not a model".utf8).write(to: URL(fileURLWithPath: path))
        try await eventually(20, "the broken file refused") {
            metrics.counters(label: "alertron_scorer_model_reload_failures_total").contains { $0.totalValue > 0 }
        }
        try await mesh.send([.reading(reading("edge-2"))])
        try await eventually(20, "scoring to go on with the old model") { scorer.worker.scoredCount == 2 }

        var parameters = IsolationForest.Parameters()
        parameters.trees = 50
        parameters.seed = 99
        let retrained = try IsolationForest.train(
            SensorProfile.normalReadings(count: 4000, seed: 8),
            featureNames: SensorProfile.featureNames, parameters: parameters)
        #expect(retrained.version != sensorModel.version)
        try retrained.write(to: path)
        try await eventually(20, "the retrained model in service") {
            let info = try? metrics.expectGauge(
                "alertron_scorer_model_info", [("model", "sensor"), ("version", retrained.version)])
            return info?.lastValue == 1
        }
        try await mesh.send([.reading(reading("edge-3"))])
        try await eventually(20, "the third reading scored") { scorer.worker.scoredCount == 3 }

        let scored = try await mesh.read("scored", count: 3).compactMap(\.scored)
        let versions = Dictionary(uniqueKeysWithValues: scored.map { ($0.event.key, $0.model) })
        #expect(versions["edge-1"] == sensorModel.version)
        #expect(versions["edge-2"] == sensorModel.version, "the broken file must not replace the serving model")
        #expect(versions["edge-3"] == retrained.version)
        _ = await scorer.stop()
    }

    @Test func logLinesAreClassifiedBesideReadingsAndOnlyCriticalOnesBecomeAnomalies() async throws {
        let mesh = try TestMesh()
        let scorer = try RunningScorer(mesh: mesh, modelPath: try writeModel())
        let lines = labeledLogs(count: 30, seed: 4)
        let logs = lines.enumerated().map { logEvent("host-\($0 % 3)", $1.message, level: $0 % 2 == 0 ? "INFO" : nil) }
        let readings = (0..<20).map { reading("edge-\($0 % 4)") }
        try await mesh.send(logs.map { .log($0) } + readings.map { .reading($0) })

        let scored = try await mesh.read("scored", count: 50).compactMap(\.scored)
        #expect(Set(scored.map(\.event.id)) == Set(logs.map(\.id) + readings.map(\.id)))
        let scoredLogs = scored.filter { $0.model == logModel.version }
        #expect(scoredLogs.count == 30)
        let critical = Set(zip(logs, lines).filter { $1.critical }.map { $0.0.id })
        #expect(Set(scoredLogs.filter(\.anomaly).map(\.event.id)) == critical)
        let anomalies = try await mesh.read("anomalies", count: critical.count).compactMap(\.scored)
        #expect(Set(anomalies.map(\.event.id)) == critical)
        #expect(anomalies.allSatisfy { $0.severity == .critical && $0.model == logModel.version })
        _ = await scorer.stop()
    }

    @Test func withoutALogModelNothingIsScoredOrSkippedUntilOneArrives() async throws {
        let mesh = try TestMesh()
        let missing = temporaryPath("not-yet-log-model.json")
        let scorer = try RunningScorer(
            mesh: mesh, modelPath: try writeModel(), logModelPath: missing, reloadInterval: .milliseconds(200))
        let critical = logEvent("host-1", "Out of memory: Killed process 812 (java) total-vm:9000kB")
        try await mesh.send([.reading(reading("edge-1")), .log(critical)])
        try await Task.sleep(for: .seconds(2))
        #expect(scorer.worker.scoredCount == 0, "it waits for the log model rather than skip the log line")

        try logModel.write(to: missing)
        try await eventually(20, "both events scored once the log model loaded") { scorer.worker.scoredCount == 2 }
        let anomalies = try await mesh.read("anomalies", count: 1).compactMap(\.scored)
        #expect(anomalies.map(\.event.id) == [critical.id])
        _ = await scorer.stop()
    }
}
