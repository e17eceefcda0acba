// The synthetic fleet: the same seed gives the same stream, anomalies come at the configured
// rate with every kind labelled, and normal readings look like the default model's training data.
import Events
import Foundation
import Models
import Testing
@testable import Generator

@Suite(.computeThread) struct FleetTests {
    private func configuration(
        seed: UInt64 = 7, anomalyRate: Double = 0.02, kinds: [AnomalyKind] = AnomalyKind.allCases,
        devices: Int = 50
    ) -> EventStream.Configuration {
        var configuration = EventStream.Configuration()
        configuration.seed = seed
        configuration.runID = "fleet"
        configuration.start = EventTime.parse("2026-01-01T00:00:00Z")
        configuration.fleet.anomalyRate = anomalyRate
        configuration.fleet.anomalyKinds = kinds
        configuration.fleet.devices = devices
        return configuration
    }

    @Test func theSameSeedGivesTheSameEventsToTheByteAndAnotherSeedDoesNot() throws {
        let first = try events(5000, configuration())
        let again = try events(5000, configuration())
        #expect(first.map(\.event) == again.map(\.event))
        #expect(first.map { EventWriter.encode($0.event) } == again.map { EventWriter.encode($0.event) })

        let other = try events(5000, configuration(seed: 8))
        let values = { (events: [GeneratedEvent]) in
            events.compactMap(\.reading).map { [$0.temperature, $0.pressure, $0.vibration] }
        }
        #expect(values(first) != values(other))
    }

    @Test func withoutAStartTheReadingsStillRepeatOnlyIdsAndTimestampsDiffer() throws {
        var wallClock = configuration()
        wallClock.start = nil
        var otherRun = wallClock
        otherRun.runID = "other"
        var first = EventStream(configuration: wallClock)
        var second = EventStream(configuration: otherRun)
        for _ in 0..<2000 {
            let a = try #require(try first.next(wallClock: "2026-03-01T10:00:00.000Z")?.reading)
            let b = try #require(try second.next(wallClock: "2026-03-01T10:00:01.000Z")?.reading)
            #expect(
                [a.deviceID, "\(a.temperature)", "\(a.pressure)", "\(a.vibration)"] == [
                    b.deviceID, "\(b.temperature)", "\(b.pressure)", "\(b.vibration)",
                ])
            #expect(a.truth == b.truth)
            #expect(a.id != b.id)
        }
    }

    @Test func aFleetOfAnotherProfileSendsTheSameChannelsNamedInValues() throws {
        var pumps = configuration()
        pumps.profile = "pump"
        let named = try events(300, pumps).compactMap(\.reading)
        let legacy = try events(300, configuration()).compactMap(\.reading)
        #expect(named.allSatisfy { $0.profile == "pump" && !$0.isLegacyShape })
        #expect(named.map(\.channels) == legacy.map(\.channels), "the same values, named")
        let written = String(decoding: EventWriter.encode(.reading(named[0])), as: UTF8.self)
        #expect(written.contains(#""profile":"pump","values":{"temperature":"#))
    }

    @Test func idsAreTheRunIDAndASequenceAndDevicesTakeTurns() throws {
        let stream = try events(120, configuration(devices: 3))
        #expect(stream.map(\.event.id) == (0..<120).map { "fleet-\($0)" })
        #expect(
            stream.prefix(6).compactMap(\.reading).map(\.deviceID) == [
                "edge-1", "edge-2", "edge-3", "edge-1", "edge-2", "edge-3",
            ])
        // Timestamps follow the fleet's clock: one round of 3 devices per 60 s interval.
        #expect(stream[3].event.ts == "2026-01-01T00:01:00.000Z")
    }

    @Test func theAnomalyRateIsRespectedWithinATolerance() throws {
        for rate in [0.02, 0.1] {
            let readings = try events(200_000, configuration(anomalyRate: rate)).compactMap(\.reading)
            let anomalous = readings.filter { $0.truth?.anomaly == true }.count
            let fraction = Double(anomalous) / Double(readings.count)
            #expect(abs(fraction - rate) < rate * 0.15, "rate \(rate): \(fraction) of readings are anomalous")
        }
        let none = try events(20_000, configuration(anomalyRate: 0)).compactMap(\.reading)
        #expect(none.allSatisfy { $0.truth == GroundTruth(anomaly: false, kind: nil) })
    }

    @Test func everyKindAppearsIsLabelledInTruthAndHasItsShape() throws {
        let readings = try events(200_000, configuration()).compactMap(\.reading)
        let anomalous = readings.filter { $0.truth?.anomaly == true }
        var byKind: [String: Int] = [:]
        for reading in anomalous { byKind[reading.truth?.kind ?? "none", default: 0] += 1 }
        #expect(Set(byKind.keys) == Set(AnomalyKind.allCases.map(\.rawValue)))
        // Each kind gets about an equal share of the anomalous readings.
        for (kind, count) in byKind {
            #expect(
                abs(Double(count) / Double(anomalous.count) - 1 / Double(AnomalyKind.allCases.count)) < 0.08,
                "\(kind): \(count) of \(anomalous.count)")
        }

        let range = SensorProfile.physicalRange
        func outsidePhysicalRange(_ reading: Reading) -> Bool {
            !range.temperature.contains(reading.temperature) || !range.pressure.contains(reading.pressure)
                || !range.vibration.contains(reading.vibration)
        }
        #expect(readings.filter { $0.truth?.anomaly == false }.allSatisfy { !outsidePhysicalRange($0) })
        // A spike moves one feature at least half a range width beyond the physical range.
        let spikes = anomalous.filter { $0.truth?.kind == "spike" }
        #expect(spikes.allSatisfy { outsidePhysicalRange($0) })
        // A stuck sensor repeats its device's previous value in one feature.
        var previous: [String: Reading] = [:]
        var stuckRepeats = 0
        var stuck = 0
        for reading in readings {
            if reading.truth?.kind == "stuck", let last = previous[reading.deviceID] {
                stuck += 1
                if last.temperature == reading.temperature || last.pressure == reading.pressure
                    || last.vibration == reading.vibration
                {
                    stuckRepeats += 1
                }
            }
            previous[reading.deviceID] = reading
        }
        #expect(stuck > 0 && stuckRepeats == stuck)
        // A drift is a long run of one device's readings (120 to 240) in which no value jumps.
        var driftRuns: [String: Int] = [:]
        var longest = 0
        for reading in readings {
            driftRuns[reading.deviceID] = reading.truth?.kind == "drift" ? (driftRuns[reading.deviceID] ?? 0) + 1 : 0
            longest = max(longest, driftRuns[reading.deviceID] ?? 0)
        }
        #expect((120...240).contains(longest), "longest drift run \(longest)")
        // A correlated fault runs hot, shakes and loses pressure, against its device's normal mean.
        var sums: [String: (count: Double, values: SIMD3<Double>)] = [:]
        for reading in readings where reading.truth?.anomaly == false {
            let sum = sums[reading.deviceID] ?? (0, .zero)
            sums[reading.deviceID] = (
                sum.count + 1, sum.values + SIMD3(reading.temperature, reading.pressure, reading.vibration)
            )
        }
        let correlated = anomalous.filter { $0.truth?.kind == "correlated" }
        let faultLike = correlated.filter { reading in
            guard let sum = sums[reading.deviceID] else { return false }
            let mean = sum.values / sum.count
            return reading.temperature > mean.x && reading.pressure < mean.y && reading.vibration > mean.z
        }
        #expect(Double(faultLike.count) / Double(correlated.count) > 0.8, "\(faultLike.count) of \(correlated.count)")
    }

    @Test func onlyTheChosenKindsAreInjected() throws {
        let readings = try events(50_000, configuration(kinds: [.spike, .stuck])).compactMap(\.reading)
        let kinds = Set(readings.compactMap { $0.truth?.kind })
        #expect(kinds == ["spike", "stuck"])
    }

    @Test func normalReadingsLieWithinTheDefaultModelsTrainingRangeAndMostlyScoreNormal() throws {
        let model = try SensorProfile.trainDefault()
        let ranges = try #require(model.trainingRanges)
        let bounds = try #require(model.trainingBounds(tolerance: 0.5))
        // A long run: three simulated days per device, so drift and the daily cycle have room.
        let readings = try events(250_000, configuration(anomalyRate: 0)).compactMap(\.reading)
        var matrix = FeatureMatrix(columns: 3, capacity: readings.count)
        var insideTraining = 0
        for reading in readings {
            let row = [reading.temperature, reading.pressure, reading.vibration]
            matrix.append(row: row)
            if zip(row, ranges).allSatisfy({ $1.contains($0) }) { insideTraining += 1 }
            // The scorer's out-of-range rule must never fire on a normal reading.
            #expect(zip(row, bounds).allSatisfy { $1.contains($0) })
        }
        #expect(
            Double(insideTraining) / Double(readings.count) > 0.99,
            "\(insideTraining) of \(readings.count) inside the training range")
        var scores: [Double] = []
        model.score(matrix, into: &scores)
        let flagged = scores.filter(model.isAnomaly).count
        // The model was fit to flag 1% of its training data; drift adds a little (about 0.3%).
        #expect(
            Double(flagged) / Double(readings.count) < 0.02, "\(flagged) of \(readings.count) normal readings flagged")
    }

    @Test func devicesBeyondTheTrainingFleetContinueTheSameDraw() throws {
        let readings = try events(600, configuration(anomalyRate: 0, devices: 60)).compactMap(\.reading)
        #expect(Set(readings.map(\.deviceID)).count == 60)
        #expect(readings.contains { $0.deviceID == "edge-60" })
    }
}
