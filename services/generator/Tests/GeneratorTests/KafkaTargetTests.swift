// The generator on a real Kafka-protocol broker: a counted run delivers exactly its events,
// and a stopped run loses nothing it counted as sent.
import AlertronTesting
import Events
import Foundation
import Kafka
import MetricsTestKit
import Testing
@testable import Generator

@Suite(.serialized, .timeLimit(.minutes(2))) struct KafkaTargetTests {
    @Test func aCountedRunDeliversExactlyThatManyReadingsWithTruthThenFinishes() async throws {
        let mesh = try TestMesh()
        var settings = testSettings(count: 2000)
        settings.stream.fleet.anomalyRate = 0.05
        let metrics = TestMetrics()
        let generator = try RunningGenerator(settings: settings, kafka: mesh.kafka, metrics: metrics)
        try await eventually(30, "the run to finish") { generator.hasFinished }
        #expect(generator.worker.acknowledgedCount == 2000)

        let messages = try await mesh.read(Topic.readings, count: 2000, settle: 1)
        #expect(messages.count == 2000, "exactly --count messages, no more")
        let readings = messages.compactMap { message -> (key: String, reading: Reading)? in
            guard case .reading(let reading)? = message.inbound, let key = message.key else { return nil }
            return (String(decoding: key, as: UTF8.self), reading)
        }
        #expect(readings.count == 2000)
        #expect(Set(readings.map(\.reading.id)) == Set((0..<2000).map { "test-\($0)" }))
        #expect(readings.allSatisfy { $0.key == $0.reading.deviceID && $0.reading.truth != nil })
        // The stream on the topic is the stream the generator makes for these settings.
        let expected = try events(2000, settings.stream).compactMap(\.reading)
        let byID = Dictionary(uniqueKeysWithValues: readings.map { ($0.reading.id, $0.reading) })
        #expect(expected.allSatisfy { byID[$0.id] == $0 })
        #expect(readings.contains { $0.reading.truth?.anomaly == true })

        let summary = generator.worker.summary
        #expect(summary.delivered.total == 2000 && summary.undelivered == 0)
        if case .failure(let error) = await generator.stop() { Issue.record("shutdown failed: \(error)") }

        // What the service counted, read from the factory it was given: every reading, by anomaly.
        let counted = metrics.counters(label: "alertron_generator_events_total")
        #expect(counted.reduce(0) { $0 + $1.totalValue } == 2000)
        #expect(
            metrics.total("alertron_generator_events_total", ("kind", "reading"), ("anomaly", "none"))
                == Int64(expected.filter { $0.truth?.anomaly != true }.count))
        #expect(metrics.total("alertron_generator_undelivered_events_total") == 0)
        #expect(try metrics.expectTimer("alertron_generator_delivery_seconds").values.count == 10)
    }

    @Test func stoppingARunLosesNothingItCountedAsSent() async throws {
        let mesh = try TestMesh()
        var settings = testSettings(count: 0, mode: .mixed)
        settings.rate = 3000
        let generator = try RunningGenerator(settings: settings, kafka: mesh.kafka)
        try await eventually(20, "some events acknowledged") { generator.worker.acknowledgedCount >= 600 }
        if case .failure(let error) = await generator.stop() { Issue.record("shutdown failed: \(error)") }
        let summary = generator.worker.summary
        #expect(summary.undelivered == 0)
        #expect(summary.delivered.logs > 0 && summary.delivered.readings > 0)

        let messages = try await mesh.read(Topic.readings, count: summary.delivered.total, settle: 1)
        #expect(messages.count == summary.delivered.total, "what was counted as sent is on the topic, and nothing else")
        #expect(Set(messages.compactMap(\.inbound?.id)).count == messages.count)
    }

    @Test func withKafkaDownShutdownGivesUpAfterTheDrainTimeoutAndCountsWhatWasLost() async throws {
        let mesh = try TestMesh()
        var settings = testSettings(count: 0)
        settings.rate = 1000
        settings.drainTimeout = .seconds(1)
        let generator = try RunningGenerator(settings: settings, kafka: mesh.kafka)
        try await eventually(20, "some events acknowledged") { generator.worker.acknowledgedCount >= 100 }
        try mesh.cluster.setBroker(1, up: false)
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        _ = await generator.stop()
        // The drain timeout, then the producer's own bounded flush (10 s).
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(generator.worker.summary.undelivered > 0, "batches in flight were given up, and counted")
    }
}
