// Fault: the broker goes away for a few seconds while the scorer is mid-stream (ingest's side of
// the same outage is IngestLiveTests). When it comes back, every reading on readings is scored:
// nothing the scorer had consumed is lost, and it is ready again.
import Events
import Foundation
import Telemetry
import Testing
@testable import Scorer

@Suite(.serialized, .timeLimit(.minutes(3))) struct BrokerOutageFaultTests {
    @Test func aBrokerOutageMidStreamLosesNoReading() async throws {
        let count = 3_000
        let mesh = try TestMesh()
        let scorer = try RunningScorer(mesh: mesh, modelPath: try writeModel())
        let readings = (0..<count).map { index in reading("edge-\(index % 40)") }
        for chunk in stride(from: 0, to: count, by: 500) {
            try await mesh.send(readings[chunk..<min(chunk + 500, count)].map { .reading($0) })
        }
        try await eventually(60, "a third of the stream scored") { scorer.worker.scoredCount >= count / 3 }
        let scoredBefore = scorer.worker.scoredCount
        try mesh.cluster.setBroker(1, up: false)
        try await Task.sleep(for: .seconds(5))
        try mesh.cluster.setBroker(1, up: true)

        let scored = try await mesh.read(Topic.scored, count: count, settle: 1, within: 120).compactMap(\.scored)
        let ids = Set(scored.map(\.event.id))
        let missing = readings.filter { !ids.contains($0.id) }
        print(
            "broker outage: \(scoredBefore) of \(count) scored before a 5 s outage; after it \(ids.count) distinct on scored, "
                + "\(scored.count - ids.count) repeated, \(missing.count) missing")
        #expect(missing.isEmpty, "\(missing.count) readings never scored")
        #expect(scoredBefore < count, "the outage came mid-stream")
        try await eventually(30, "the scorer ready again") {
            await scorer.readiness.evaluate(timeout: .seconds(3)).isReady
        }
        if case .failure(let error) = await scorer.stop() { Issue.record("shutdown failed: \(error)") }
    }
}
