// The evaluation math on hand-made scored events: counts, precision, recall, F1, per-kind
// recall, duplicates and skipped events, and which rule caught what.
import Events
import Foundation
import Models
import Testing
@testable import Generator

@Suite(.computeThread) struct EvaluationTests {
    private func scored(
        _ id: String, kind: String?, anomalous truth: Bool?, flagged: Bool, severity: Severity = .none,
        temperature: Double = 22, score: Double = 0.5, model: String = "isolation_forest@test"
    ) -> ScoredEvent {
        let reading = Reading(
            id: id, ts: "2026-01-01T00:00:00.000Z", deviceID: "edge-1", temperature: temperature, pressure: 1010,
            vibration: 0.025, truth: truth.map { GroundTruth(anomaly: $0, kind: kind) })
        return ScoredEvent(
            event: .reading(reading), score: score, anomaly: flagged,
            severity: flagged && severity == .none ? .warning : severity,
            model: model, scoredAt: "2026-01-01T00:00:01.000Z")
    }

    /// Three spikes (two caught), two stuck sensors (none caught), one correlated fault
    /// (caught), ten normal readings (one flagged), plus what must not count.
    private var handMade: [ScoredEvent] {
        var events = [
            scored("s1", kind: "spike", anomalous: true, flagged: true, severity: .critical),
            scored("s2", kind: "spike", anomalous: true, flagged: true, severity: .critical),
            scored("s3", kind: "spike", anomalous: true, flagged: false),
            scored("t1", kind: "stuck", anomalous: true, flagged: false),
            scored("t2", kind: "stuck", anomalous: true, flagged: false),
            scored("c1", kind: "correlated", anomalous: true, flagged: true, severity: .warning),
        ]
        events += (0..<10).map { scored("n\($0)", kind: nil, anomalous: false, flagged: $0 == 0) }
        // A redelivered copy of s3 with another verdict: the first verdict stands.
        events.append(scored("s3", kind: "spike", anomalous: true, flagged: true))
        events.append(scored("u1", kind: nil, anomalous: nil, flagged: true))
        events.append(
            ScoredEvent(
                event: .log(LogEvent(id: "l1", ts: "2026-01-01T00:00:00.000Z", source: "db-1", message: "disk full")),
                score: 0.9, anomaly: true, severity: .critical, model: "log_severity@test",
                scoredAt: "2026-01-01T00:00:01.000Z"))
        return events
    }

    @Test func aHandMadeFileGivesTheExactCounts() throws {
        let path = temporaryPath("scored.jsonl")
        var lines = handMade.map { String(decoding: EventWriter.encode($0), as: UTF8.self) }
        lines.insert("{ not a scored event", at: 4)
        lines.insert("", at: 2)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

        var evaluation = Evaluation()
        try evaluation.add(file: path)
        #expect(
            evaluation.overall
                == Evaluation.Confusion(truePositives: 3, falsePositives: 1, falseNegatives: 3, trueNegatives: 9))
        #expect(evaluation.overall.precision == 0.75)
        #expect(evaluation.overall.recall == 0.5)
        #expect(abs(evaluation.overall.f1 - 0.6) < 1e-12)
        #expect(evaluation.kinds["spike"]?.recall == 2.0 / 3.0)
        #expect(evaluation.kinds["stuck"]?.recall == 0)
        #expect(evaluation.kinds["correlated"]?.recall == 1)
        #expect(evaluation.kinds["spike"]?.critical == 2)
        #expect(evaluation.normal.detected == 1 && evaluation.normal.readings == 10)
        #expect(evaluation.duplicates == 1)
        #expect(evaluation.skippedLogs == 1)
        #expect(evaluation.skippedWithoutTruth == 1)
        #expect(evaluation.report.contains("precision 0.7500  recall 0.5000  F1 0.6000"))
    }

    @Test func nothingToCountIsNotANumberRatherThanAGuess() {
        let empty = Evaluation.Confusion()
        #expect(empty.precision.isNaN && empty.recall.isNaN && empty.f1.isNaN)
        let noDetections = Evaluation.Confusion(
            truePositives: 0, falsePositives: 0, falseNegatives: 4, trueNegatives: 10)
        #expect(noDetections.precision.isNaN)
        #expect(noDetections.recall == 0)
        #expect(Evaluation.format(noDetections.precision) == "n/a")
    }

    @Test func withTheModelEachDetectionIsAttributedToTheRangeRuleOrTheForest() throws {
        var parameters = IsolationForest.Parameters()
        parameters.trees = 20
        let model = try IsolationForest.train(
            SensorProfile.normalReadings(count: 2000, seed: 3),
            featureNames: SensorProfile.featureNames, parameters: parameters)
        var evaluation = Evaluation(attribution: try Evaluation.Attribution(model: model, rangeTolerance: 0.5))
        // A spike far beyond the training range but scored low: only the range rule can have flagged it.
        evaluation.add(
            scored(
                "a", kind: "spike", anomalous: true, flagged: true, severity: .critical, temperature: 80,
                score: model.threshold - 0.05, model: model.version))
        // A fault inside the range scored above the threshold: the forest.
        evaluation.add(
            scored(
                "b", kind: "correlated", anomalous: true, flagged: true, score: model.threshold + 0.05,
                model: model.version))
        // Flagged by another model: counted, not attributed.
        evaluation.add(
            scored("c", kind: "shift", anomalous: true, flagged: true, score: 0.9, model: "isolation_forest@other"))
        #expect(evaluation.kinds["spike"]?.byRangeRule == 1 && evaluation.kinds["spike"]?.byForest == 0)
        #expect(evaluation.kinds["correlated"]?.byRangeRule == 0 && evaluation.kinds["correlated"]?.byForest == 1)
        #expect(evaluation.kinds["shift"]?.detected == 1 && evaluation.kinds["shift"]?.byForest == 0)
        #expect(evaluation.otherModel == 1)
        #expect(evaluation.report.contains("range rule"))
    }

    @Test func episodesAndFalsePagesPerDeviceDayComeFromEachDevicesStream() {
        var evaluation = Evaluation()
        // Two devices, a day each at one reading a minute. edge-1: a shift of five readings
        // caught at its second, and two false flags an hour apart (two pages); edge-2: a stuck
        // sensor never caught.
        for device in ["edge-1", "edge-2"] {
            for minute in 0..<1440 {
                let kind: String? = (100..<105).contains(minute) ? (device == "edge-1" ? "shift" : "stuck") : nil
                let flagged = device == "edge-1" && (minute == 101 || minute == 500 || minute == 560)
                let reading = Reading(
                    id: "\(device)-\(minute)", ts: Timestamp.format(millisecondsSinceEpoch: Int64(minute) * 60_000),
                    deviceID: device, temperature: 22, pressure: 1010, vibration: 0.025,
                    truth: GroundTruth(anomaly: kind != nil, kind: kind))
                evaluation.add(
                    ScoredEvent(
                        event: .reading(reading), score: 0.5, anomaly: flagged, severity: flagged ? .warning : .none,
                        model: "m", scoredAt: reading.ts))
            }
        }
        #expect(abs(evaluation.deviceDays(readings: 2 * 1440) - 2) < 1e-9)
        let report = evaluation.report
        #expect(report.contains("episodes caught: 1 of 2 (0.5000), median delay 1.0 readings"), "\(report)")
        #expect(report.contains("false episodes: 2 in 2.0 device-days = 1.000 per device-day"), "\(report)")
        #expect(report.contains("shift               1         1  1.0000           1.0"), "\(report)")
        #expect(report.contains("stuck               1         0  0.0000           n/a"), "\(report)")
    }
}
