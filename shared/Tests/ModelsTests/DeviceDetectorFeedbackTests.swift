// A person's "not an anomaly" on a device's episode: the same fault no longer alerts, while a
// fault on another channel, of another kind, or clearly larger still does; and the verdict
// outlives snapshots and the relearning of a new normal.
import Models
import Testing

extension DeviceDetectorTests {
    /// The noise of `Device`'s channels, one standard deviation each.
    static let noise = [0.5, 3, 0.003]

    /// 20 readings of `device` with `channel` off by `sigmas` of its noise.
    func fault(_ device: inout Device, channel: Int, sigmas: Double) -> [[Double]] {
        (0..<20).map { _ in
            var values = device.normal()
            values[channel] += sigmas * Self.noise[channel]
            return values
        }
    }

    /// How many of `readings` are anomalous.
    func anomalies(_ readings: [[Double]], detector: DeviceDetector, state: inout DeviceDetector.State) -> Int {
        readings.count { detector.judge($0, state: &state).anomalous }
    }

    /// Normal readings until the open episode, if any, has closed (the shift chart takes a
    /// reading or two to fall back, then `closeAfter` normal ones close it).
    func settle(_ device: inout Device, detector: DeviceDetector, state: inout DeviceDetector.State) {
        for _ in 0..<(3 * detector.settings.closeAfter) where state.openEpisodeNumber != nil {
            _ = detector.judge(device.normal(), state: &state)
        }
        #expect(state.openEpisodeNumber == nil)
    }

    @Test func aDismissedFaultNoLongerAlertsButAnotherChannelAnotherKindOrAClearlyLargerOneStillDoes() throws {
        let detector = DeviceDetector()
        var device = Device(seed: 41)
        var state = warmedUp(&device, detector: detector)
        #expect(detector.acceptLastEpisode(state: &state).isEmpty, "no episode yet: nothing to accept")
        #expect(anomalies(fault(&device, channel: 0, sigmas: 8), detector: detector, state: &state) >= 18)
        settle(&device, detector: detector, state: &state)

        // The same fault again, with its own noise, five times: each alerts as long as no one
        // has said anything.
        let replays = (0..<5).map { _ in fault(&device, channel: 0, sigmas: 8) }
        var unheard = state
        for replay in replays {
            #expect(anomalies(replay, detector: detector, state: &unheard) >= 18, "without the verdict it alerts")
            settle(&device, detector: detector, state: &unheard)
        }

        let widened = detector.acceptLastEpisode(state: &state)
        #expect(widened.contains { $0.channel == 0 && $0.detector == .spike }, "\(widened)")
        #expect(widened.allSatisfy { $0.channel == 0 || $0.detector == .relation }, "only what fired: \(widened)")
        #expect(widened.allSatisfy { $0.tolerance > 0 && $0.tolerance <= DeviceDetector.maxTolerance })
        #expect(detector.acceptLastEpisode(state: &state).isEmpty, "accepting it again changes nothing")
        for replay in replays {
            #expect(anomalies(replay, detector: detector, state: &state) == 0, "the dismissed fault alerts again")
            settle(&device, detector: detector, state: &state)
        }

        var other = state
        #expect(anomalies(fault(&device, channel: 1, sigmas: 8), detector: detector, state: &other) >= 18)
        var larger = state
        #expect(anomalies(fault(&device, channel: 0, sigmas: 16), detector: detector, state: &larger) >= 18)
        // A stuck channel 0, which the dismissed shift never was.
        var stuck = state
        let frozen = device.normal()[0]
        var caught: DeviceDetector.Verdict?
        for _ in 0..<20 {
            var values = device.normal()
            values[0] = frozen
            let verdict = detector.judge(values, state: &stuck)
            if verdict.anomalous { caught = caught ?? verdict }
        }
        #expect(try #require(caught, "a stuck channel after a dismissed shift went unseen").detector == .stuck)
    }

    @Test func aVerdictSurvivesASnapshotAndTheRelearningOfANewNormal() throws {
        var settings = DeviceDetector.Settings()
        settings.relearnAfter = 50
        let detector = DeviceDetector(settings: settings)
        var device = Device(seed: 43)
        var state = warmedUp(&device, detector: detector)
        _ = anomalies(fault(&device, channel: 2, sigmas: 8), detector: detector, state: &state)
        settle(&device, detector: detector, state: &state)
        var before = SnapshotWriter()
        state.write(to: &before)
        #expect(!detector.acceptLastEpisode(state: &state).isEmpty)

        var bytes = SnapshotWriter()
        state.write(to: &bytes)
        var reader = SnapshotReader(bytes.bytes)
        var restored = try #require(DeviceDetector.State(reading: &reader, channels: 3))
        #expect(reader.isAtEnd)
        #expect(detector.acceptLastEpisode(state: &restored).isEmpty, "restored already widened")
        for values in fault(&device, channel: 2, sigmas: 8) {
            let verdict = detector.judge(values, state: &state)
            #expect(verdict == detector.judge(values, state: &restored))
            #expect(!verdict.anomalous)
        }
        // A record of the layout before feedback ends before the tolerances (8 doubles a channel,
        // 2 for the joint test): read with nothing excused, the fault alerts again.
        let old = Array(before.bytes.dropLast((8 * 3 + 2) * 8))
        var oldReader = SnapshotReader(old)
        var unexcused = try #require(DeviceDetector.State(reading: &oldReader, channels: 3, withTolerances: false))
        #expect(oldReader.isAtEnd)
        #expect(anomalies(fault(&device, channel: 2, sigmas: 8), detector: detector, state: &unexcused) >= 18)
        var misread = SnapshotReader(old)
        #expect(DeviceDetector.State(reading: &misread, channels: 3) == nil, "an old record is not misread as new")

        // Another fault lasts long enough to be the new normal: the device learns again, and
        // what people said still holds afterwards.
        settle(&device, detector: detector, state: &state)
        for _ in 0..<60 {
            var values = device.normal()
            values[1] += 30
            _ = detector.judge(values, state: &state)
        }
        #expect(state.isLearning)
        for _ in 0..<detector.settings.warmUp { _ = detector.judge(device.normal(), state: &state) }
        #expect(!state.isLearning)
        #expect(anomalies(fault(&device, channel: 2, sigmas: 8), detector: detector, state: &state) == 0)
        #expect(anomalies(fault(&device, channel: 0, sigmas: 8), detector: detector, state: &state) >= 18)
    }
}
