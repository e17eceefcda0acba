// One reading of one device judged as the scorer judges it, wherever it comes from (a Kafka
// batch, or a CSV row of `scorer score`): by the fleet model while the device learns its own
// normal, by its own baseline after, with the episode it belongs to and why it was flagged.
import Events
import Models

package struct DeviceJudge: Sendable {
    /// One device's memory: what its detector has learned, and the episode open now.
    package struct Memory: Sendable {
        package var state: DeviceDetector.State
        /// The device's profile, and the channels the state is learned over, in the detector's
        /// order: the profile model's features, or without a model, the channels the device sends.
        package var profile: String
        package var columns: [String]
        /// `<device>/<id of the reading that opened it>`: the same on every redelivery.
        package var episodeID: String?
        /// The device's latest episode, open or closed: the one a person's "not an anomaly" can
        /// still teach it about (its detector keeps that episode's peaks until the next opens).
        package var lastEpisodeID: String?
        /// The input partition the device's readings come from, and the offset of the last one
        /// learned from: a reading redelivered after a crash is not learned from twice.
        package var partition: Int32 = -1
        package var lastOffset: Int64 = -1
        /// The batch that last changed the memory (not kept in snapshots).
        var batchMark = 0

        package init(profile: String = Reading.defaultProfile, columns: [String]) {
            (self.profile, self.columns) = (profile, columns)
            state = DeviceDetector.State(channels: columns.count)
        }

        init(state: DeviceDetector.State, profile: String, columns: [String]) {
            (self.state, self.profile, self.columns) = (state, profile, columns)
        }
    }

    /// What the fleet model made of a reading: its forest score, and whether a feature lies
    /// beyond the training range by more than the tolerance.
    package struct FleetView: Sendable {
        package var score: Double
        package var outOfRange: Bool

        package init(score: Double, outOfRange: Bool) {
            (self.score, self.outOfRange) = (score, outOfRange)
        }
    }

    /// The verdict in the shape of a scored event's fields.
    package struct Judgement: Sendable, Equatable {
        package var anomaly: Bool
        package var severity: Severity
        package var score: Double
        package var model: String
        package var episode: EpisodeMark?
        package var explanation: Explanation?
        /// Judged by the fleet model because the device is still learning.
        package var learning: Bool
        /// The episode this reading ended (normal for `--close-after` readings, or a new normal).
        package var closedEpisode: String?
        /// The device learned its normal with this reading, or began to learn it again.
        package var finishedLearning = false
        package var startedLearningAgain = false
    }

    /// The `model` of verdicts from a device's own baseline: the detector's name and version.
    package static let baselineModel = "device_baseline@1"

    package let detector: DeviceDetector

    package init(detection: DeviceDetector.Settings) {
        detector = DeviceDetector(settings: detection)
    }

    /// Judges `row` (the model's features, in its order) of reading `readingID` of `deviceID`,
    /// taken at `ts` (RFC 3339; parsed only when the detector wants the time).
    /// `model` is the device profile's fleet model (nil when the profile has none: then the
    /// device's own baseline is all there is, and nothing is flagged while it learns).
    package func judge(
        _ row: [Double], readingID: String, deviceID: String, time: @autoclosure () -> Double?, fleet: FleetView,
        model: IsolationForest?, memory: inout Memory
    ) -> Judgement {
        // The fleet model judges a device until it has learned its own normal: the range rule
        // (the forest cannot score beyond its training range, so a single-sensor spike looks
        // like the most extreme normal reading) and the forest's critical band.
        let fleetFlagged = model.map { fleet.outOfRange || fleet.score >= $0.criticalCutPoint } ?? false
        let wanted = memory.state.wantsTime(warmUp: detector.settings.warmUp) ? time() : nil
        let verdict = detector.judge(row, at: wanted, fleetFlagged: fleetFlagged, state: &memory.state)

        var judgement: Judgement
        if verdict.learning, let model {
            judgement = Judgement(
                anomaly: verdict.anomalous,
                severity: fleet.outOfRange ? .critical : fleetFlagged ? model.severity(forScore: fleet.score) : .none,
                score: fleet.score, model: model.version, learning: true)
            if verdict.anomalous {
                judgement.explanation = Self.fleetExplanation(row, model: model, outOfRange: fleet.outOfRange)
            }
        } else {
            judgement = Judgement(
                anomaly: verdict.anomalous, severity: verdict.severity, score: verdict.score,
                model: Self.baselineModel, learning: verdict.learning)
            if verdict.anomalous { judgement.explanation = Self.explanation(verdict, columns: memory.columns) }
        }
        if verdict.anomalous {
            if verdict.opened || memory.episodeID == nil {
                memory.episodeID = "\(deviceID)/\(readingID)"
                memory.lastEpisodeID = memory.episodeID
            }
            judgement.episode = memory.episodeID.map {
                EpisodeMark(id: $0, state: verdict.opened ? .opened : .continues)
            }
        }
        if verdict.closedEpisode != nil {
            judgement.closedEpisode = memory.episodeID
            memory.episodeID = nil
        }
        judgement.finishedLearning = verdict.learning && !memory.state.isLearning
        judgement.startedLearningAgain = !verdict.learning && memory.state.isLearning
        return judgement
    }

    /// A person said the device's episode `episodeID` was not an anomaly: the tests it widened,
    /// or nil when that is not the device's latest episode (a newer one opened since, or the
    /// device learned afresh), whose peaks are gone.
    package func accept(episode episodeID: String?, memory: inout Memory) -> [DeviceDetector.Widening]? {
        guard let episodeID, episodeID == memory.lastEpisodeID else { return nil }
        return detector.acceptLastEpisode(state: &memory.state)
    }

    /// A detector's verdict as an explanation: the channels by name.
    private static func explanation(_ verdict: DeviceDetector.Verdict, columns: [String]) -> Explanation {
        Explanation(
            detector: verdict.detector?.rawValue ?? "unknown",
            channels: verdict.findings.map { finding in
                Explanation.Channel(
                    name: columns[finding.channel], value: finding.value, expected: finding.expected,
                    spread: finding.spread, sigmas: finding.sigmas, detector: finding.detector.rawValue)
            })
    }

    /// Why the fleet model flagged a reading of a device still learning its normal: each
    /// feature against the middle of the fleet's training range (half its width as the spread),
    /// the furthest first.
    private static func fleetExplanation(_ row: [Double], model: IsolationForest, outOfRange: Bool) -> Explanation {
        let detector: DetectorKind = outOfRange ? .range : .forest
        guard let ranges = model.trainingRanges else { return Explanation(detector: detector.rawValue, channels: []) }
        let channels = zip(zip(model.featureNames, row), ranges).map { feature, range in
            let expected = (range.lowerBound + range.upperBound) / 2
            let spread = max((range.upperBound - range.lowerBound) / 2, .leastNonzeroMagnitude)
            return Explanation.Channel(
                name: feature.0, value: feature.1, expected: expected, spread: spread,
                sigmas: (feature.1 - expected) / spread, detector: detector.rawValue)
        }.sorted { abs($0.sigmas) > abs($1.sigmas) }
        return Explanation(detector: detector.rawValue, channels: Array(channels.prefix(3)))
    }
}
