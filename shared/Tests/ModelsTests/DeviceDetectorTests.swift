// One device's stream through DeviceDetector: it learns, stays quiet on its own noise, and
// catches spikes, shifts, stuck channels and broken relations as episodes that say why.
import Events
import Foundation
import Models
import Testing

@Suite struct DeviceDetectorTests {
    /// A device with three channels around (20, 1000, 0.03), noise (0.5, 3, 0.003); channel 1
    /// follows channel 0 when `coupled` (a relation the detector can learn).
    struct Device {
        var random: RandomSource
        var coupled = false

        init(seed: UInt64, coupled: Bool = false) {
            random = RandomSource(seed: seed)
            self.coupled = coupled
        }

        mutating func normal() -> [Double] {
            let a = random.nextGaussian()
            let b = coupled ? 0.9 * a + 0.3 * random.nextGaussian() : random.nextGaussian()
            // Rounded as a sensor reports, so exact repeats happen as rarely as they really do.
            return [
                ((20 + 0.5 * a) * 100).rounded() / 100, ((1000 + 3 * b) * 100).rounded() / 100,
                ((0.03 + 0.003 * random.nextGaussian()) * 10_000).rounded() / 10_000,
            ]
        }
    }

    func warmedUp(_ device: inout Device, detector: DeviceDetector) -> DeviceDetector.State {
        var state = DeviceDetector.State(channels: 3)
        for _ in 0..<detector.settings.warmUp {
            #expect(detector.judge(device.normal(), state: &state).learning)
        }
        #expect(!state.isLearning)
        return state
    }

    @Test func aFaultFreeDeviceOpensNoEpisodeInTwentyDays() {
        let detector = DeviceDetector()
        for seed in 1...3 {
            var device = Device(seed: UInt64(seed), coupled: seed == 2)
            var state = warmedUp(&device, detector: detector)
            var flagged = 0
            for _ in 0..<(20 * 1440) where detector.judge(device.normal(), state: &state).anomalous { flagged += 1 }
            // The budget is 0.02 a day: 0.4 expected over 20 days.
            #expect(flagged <= 1, "seed \(seed): \(flagged) readings flagged")
            #expect(state.episodes <= 1)
        }
    }

    @Test func aSpikeIsOneEpisodeThatNamesTheChannelAndCloses() throws {
        let detector = DeviceDetector()
        var device = Device(seed: 7)
        var state = warmedUp(&device, detector: detector)
        var spike = device.normal()
        spike[2] = 0.06  // ten of its standard deviations
        let verdict = detector.judge(spike, state: &state)
        #expect(verdict.anomalous && verdict.opened && verdict.episode == 1)
        #expect(verdict.detector == .spike)
        let finding = try #require(verdict.findings.first)
        #expect(finding.channel == 2)
        #expect(abs(finding.expected - 0.03) < 0.002)
        #expect(abs(finding.spread - 0.003) < 0.001)
        #expect(finding.sigmas > 7)
        var closed: Int?
        for _ in 0..<detector.settings.closeAfter {
            let next = detector.judge(device.normal(), state: &state)
            #expect(!next.anomalous)
            closed = closed ?? next.closedEpisode
        }
        #expect(closed == 1)
        #expect(state.openEpisodeNumber == nil)
    }

    @Test func aRestoredSnapshotJudgesTheNextReadingsExactlyAsTheOriginal() throws {
        let detector = DeviceDetector()
        for learned in [false, true] {
            var device = Device(seed: 11, coupled: true)
            var state = DeviceDetector.State(channels: 3)
            // Mid-warm-up, or learned and mid-episode (a shift that has not closed).
            for _ in 0..<(learned ? detector.settings.warmUp : 150) {
                _ = detector.judge(device.normal(), at: 0, state: &state)
            }
            if learned {
                for _ in 0..<3 {
                    var shifted = device.normal()
                    shifted[0] += 3
                    _ = detector.judge(shifted, state: &state)
                }
                #expect(state.openEpisodeNumber != nil)
            }
            var bytes = SnapshotWriter()
            state.write(to: &bytes)
            var reader = SnapshotReader(bytes.bytes)
            var restored = try #require(DeviceDetector.State(reading: &reader, channels: 3))
            #expect(reader.isAtEnd)
            for _ in 0..<300 {
                let values = device.normal()
                #expect(
                    detector.judge(values, at: 60, state: &state) == detector.judge(values, at: 60, state: &restored))
            }
            // Cut short, or for another number of channels: refused, not misread.
            var short = SnapshotReader(Array(bytes.bytes.dropLast()))
            #expect(DeviceDetector.State(reading: &short, channels: 3) == nil)
            var other = SnapshotReader(bytes.bytes)
            #expect(DeviceDetector.State(reading: &other, channels: 2) == nil)
        }
    }

    @Test func aLevelShiftIsCaughtWithinThreeReadingsAndStaysOneEpisode() {
        let detector = DeviceDetector()
        var device = Device(seed: 11)
        var state = warmedUp(&device, detector: detector)
        var first: Int?
        var episodes = Set<Int>()
        var detectors = Set<DetectorKind>()
        for step in 0..<20 {
            var values = device.normal()
            values[1] += 12  // four standard deviations of pressure
            let verdict = detector.judge(values, state: &state)
            if verdict.anomalous {
                first = first ?? step
                verdict.episode.map { episodes.insert($0) }
                verdict.detector.map { detectors.insert($0) }
                #expect(verdict.findings.first?.channel == 1)
            }
        }
        #expect((first ?? 99) <= 2)
        #expect(episodes == [1])
        #expect(detectors.contains(.shift))
    }

    @Test func aSlowDriftIsCaughtAsDriftFromWhereTheChannelUsuallyIsAndADailyCycleIsNot() throws {
        let detector = DeviceDetector()
        // A daily cycle of ±2 on channel 0 (a reading a minute), learned from its first 400 minutes.
        var device = Device(seed: 21)
        var state = DeviceDetector.State(channels: 3)
        var minute = 0
        func next(pressureOffset: Double = 0) -> [Double] {
            var values = device.normal()
            values[0] += 2 * sin(2 * Double.pi * Double(minute) / 1440)
            values[1] += pressureOffset
            minute += 1
            return values
        }
        for _ in 0..<detector.settings.warmUp { _ = detector.judge(next(), at: Double(minute) * 60, state: &state) }
        #expect(!state.isLearning)
        var flagged = 0
        for _ in 0..<(5 * 1440) where detector.judge(next(), state: &state).anomalous { flagged += 1 }
        #expect(flagged <= 2, "a daily cycle flagged \(flagged) times in 5 days")

        // Then channel 1 drifts away by 15 (5 of its noise) over 150 readings: each reading is
        // within a tenth of its noise of the one before, so no residual test sees it.
        var caught: (step: Int, verdict: DeviceDetector.Verdict)?
        for step in 1...150 {
            let verdict = detector.judge(next(pressureOffset: 15 * Double(step) / 150), state: &state)
            if verdict.anomalous, caught == nil { caught = (step, verdict) }
        }
        let (step, verdict) = try #require(caught, "a drift of 5 noise widths over 150 readings went unseen")
        #expect(verdict.detector == .drift, "caught at reading \(step) by \(String(describing: verdict.detector))")
        let finding = try #require(verdict.findings.first)
        #expect(finding.channel == 1 && finding.detector == .drift)
        #expect(abs(finding.expected - 1000) < 2, "measured from where the channel usually is")
        #expect(finding.sigmas > 2)
    }

    @Test func aStuckChannelIsCaughtAsStuck() {
        let detector = DeviceDetector()
        var device = Device(seed: 13)
        var state = warmedUp(&device, detector: detector)
        let frozen = device.normal()[0]
        var caughtAt: Int?
        for step in 0..<20 {
            var values = device.normal()
            values[0] = frozen
            let verdict = detector.judge(values, state: &state)
            if verdict.anomalous, caughtAt == nil {
                caughtAt = step
                #expect(verdict.detector == .stuck)
                #expect(verdict.findings.first?.channel == 0)
                #expect(verdict.findings.first?.detector == .stuck)
            }
        }
        #expect((caughtAt ?? 99) <= 4)
    }

    @Test func channelsThatStopMovingTogetherAreARelationFault() {
        let detector = DeviceDetector()
        var device = Device(seed: 17, coupled: true)
        var state = warmedUp(&device, detector: detector)
        // Channel 0 up and channel 1 down by 2.5 of their spreads: neither alone is unusual
        // enough, together they contradict how they have always moved.
        var values = device.normal()
        values[0] = 20 + 1.25
        values[1] = 1000 - 7.5
        let verdict = detector.judge(values, state: &state)
        #expect(verdict.anomalous)
        #expect(verdict.detector == .relation)
        #expect(Set(verdict.findings.prefix(2).map(\.channel)) == [0, 1])
    }

    @Test func severityNeverFallsAsTheDeviationGrows() {
        let detector = DeviceDetector()
        var device = Device(seed: 19)
        let learned = warmedUp(&device, detector: detector)
        var severities: [Severity] = []
        var surprises: [Double] = []
        for sigmas in [5.5, 6.0, 8.0, 12.0, 20.0, 40.0, 200.0] {
            var state = learned
            var values = device.normal()
            values[2] = 0.03 + sigmas * 0.003
            let verdict = detector.judge(values, state: &state)
            severities.append(verdict.severity)
            surprises.append(verdict.surprise)
        }
        let rank: [Severity: Int] = [.none: 0, .warning: 1, .critical: 2]
        #expect(zip(severities, severities.dropFirst()).allSatisfy { rank[$0]! <= rank[$1]! }, "\(severities)")
        #expect(zip(surprises, surprises.dropFirst()).allSatisfy { $0 <= $1 }, "\(surprises)")
        #expect(severities.last == .critical)
    }

    @Test func aFasterStreamGetsAStricterThresholdForTheSameDailyBudget() {
        let detector = DeviceDetector()
        var perMinute = DeviceDetector.State(channels: 3)
        var perSecond = DeviceDetector.State(channels: 3)
        var device = Device(seed: 23)
        var thresholds: (minute: Double, second: Double) = (0, 0)
        for index in 0...detector.settings.warmUp {
            let values = device.normal()
            thresholds.minute = detector.judge(values, at: Double(index) * 60, state: &perMinute).threshold
            thresholds.second = detector.judge(values, at: Double(index), state: &perSecond).threshold
        }
        #expect(thresholds.second > thresholds.minute + 1.5)
    }

    @Test func whileLearningTheFleetModelsFlagsAreEpisodesAndAreNotLearned() {
        let detector = DeviceDetector()
        var device = Device(seed: 31)
        var state = DeviceDetector.State(channels: 3)
        var glitch = device.normal()
        glitch[1] = 5000
        let flagged = detector.judge(glitch, fleetFlagged: true, state: &state)
        #expect(flagged.learning && flagged.anomalous && flagged.opened && flagged.episode == 1)
        #expect(state.readings == 0, "a flagged reading is not learned")
        var closed: Int?
        for _ in 0..<detector.settings.warmUp {
            let verdict = detector.judge(device.normal(), state: &state)
            closed = closed ?? verdict.closedEpisode
        }
        #expect(closed == 1)
        #expect(!state.isLearning)
        // The glitch did not widen the device's normal: a 10-sigma pressure is still a spike.
        var values = device.normal()
        values[1] = 1030
        #expect(detector.judge(values, state: &state).detector == .spike)
    }

    @Test func anEpisodeLongerThanTheRelearnLimitIsANewNormal() {
        var settings = DeviceDetector.Settings()
        settings.relearnAfter = 50
        let detector = DeviceDetector(settings: settings)
        var device = Device(seed: 29)
        var state = warmedUp(&device, detector: detector)
        var closed: Int?
        for _ in 0..<60 {
            var values = device.normal()
            values[1] += 30
            let verdict = detector.judge(values, state: &state)
            closed = closed ?? verdict.closedEpisode
        }
        #expect(closed == 1)
        #expect(state.isLearning, "learning the shifted level as the new normal")
    }
}

@Suite struct EpisodeTallyTests {
    @Test func episodesCaughtDelaysAndFalsePagesAreCountedAsOnCallWould() {
        var tally = EpisodeTally(grace: 3, gap: 10)
        func feed(_ device: String, _ script: [(String?, Bool)]) {
            for (kind, flagged) in script { tally.add(device: device, fault: kind, flagged: flagged) }
        }
        let quiet = [(String?, Bool)](repeating: (nil, false), count: 20)
        // edge-1: a shift caught at its third reading, then a spike caught in the grace reading after it.
        feed("edge-1", quiet + [("shift", false), ("shift", false), ("shift", true), ("shift", true)] + quiet)
        feed("edge-1", [("spike", false), (nil, true)] + quiet)
        // edge-2: a stuck sensor never caught; then two false flags 5 apart (one page) and one 15 later (another).
        feed("edge-2", quiet + Array(repeating: ("stuck", false), count: 5) + quiet)
        feed(
            "edge-2",
            [(nil, true)] + Array(repeating: (nil, false), count: 4) + [(nil, true)]
                + Array(repeating: (nil, false), count: 14) + [(nil, true)] + quiet)
        tally.finish()

        #expect(tally.kinds["shift"]?.episodes == 1 && tally.kinds["shift"]?.delays == [2])
        #expect(tally.kinds["spike"]?.episodes == 1 && tally.kinds["spike"]?.delays == [1])
        #expect(tally.kinds["stuck"]?.episodes == 1 && tally.kinds["stuck"]?.caught == 0)
        #expect(tally.episodes == 3 && tally.caught == 2)
        #expect(tally.medianDelay == 1.5)
        #expect(tally.falseEpisodes == 2)
        #expect(tally.trueIncidents == 2)
        let readings = tally.readings
        #expect(abs(tally.falseEpisodesPerDeviceDay(interval: 60) - 2 / (Double(readings) / 1440)) < 1e-12)
    }
}
