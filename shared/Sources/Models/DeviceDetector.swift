// Judges one device's readings against its own normal, one reading at a time: a baseline
// learned from the device's first readings and kept up to date, four detectors on what the
// baseline did not expect, and episodes instead of isolated verdicts. Pure: the caller keeps
// one `State` per device (the scorer in memory, `scorer score` for its one CSV stream).
import Events

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What saw an anomaly.
public enum DetectorKind: String, Sendable, CaseIterable {
    /// One reading far from the device's expected value.
    case spike
    /// A run of readings off to one side (a CUSUM chart on the residuals).
    case shift
    /// A channel repeating its value for longer than it ever did while normal.
    case stuck
    /// A channel trending away faster than it ever did while normal (a ramp the baseline
    /// follows, so no single reading looks wrong).
    case drift
    /// Channels that moved against how they move together (Hotelling's T² on the residuals).
    case relation
    /// The profile's fleet model, while the device is still learning its own normal.
    case forest
    /// A value far outside what the profile's model was trained on.
    case range
}

public struct DeviceDetector: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Readings a device learns its normal from before it judges itself.
        public var warmUp = 400
        /// Normal readings in a row that close an open episode.
        public var closeAfter = 10
        /// The noise budget: false episodes a fault-free device may open per day. Every
        /// threshold follows from it and the device's reading rate.
        public var falseEpisodesPerDeviceDay = 0.02
        /// Seconds between two readings when the stream does not tell (a minute, the fleet's).
        public var defaultInterval = 60.0
        /// Readings over which the expected level and trend forget half of what they knew: short enough
        /// to follow a daily cycle and slow drift, long enough to average the noise.
        public var levelHalfLife = 20.0
        /// An episode this long is a new normal, not a fault: the device learns again.
        public var relearnAfter = 1440

        public init() {}
    }

    /// One channel that drove a verdict: where it is, where the device's own normal puts it.
    public struct Finding: Sendable, Equatable {
        public var channel: Int
        public var value: Double
        public var expected: Double
        /// The device's own spread of this channel (one standard deviation of what the baseline
        /// does not predict).
        public var spread: Double
        /// (value − expected) / spread.
        public var sigmas: Double
        public var detector: DetectorKind
    }

    public struct Verdict: Sendable, Equatable {
        /// The device is still learning its normal: nothing was judged (the fleet model should).
        public var learning = false
        public var anomalous = false
        /// −log10 of the chance of so unusual a reading on a normal device, by the detector
        /// that found it most unusual.
        public var surprise = 0.0
        /// The surprise at which a reading is anomalous, from the noise budget.
        public var threshold = 0.0
        public var detector: DetectorKind?
        /// The device's episode this anomalous reading belongs to (numbered from 1 per device).
        public var episode: Int?
        /// True when this reading opened `episode`.
        public var opened = false
        /// An episode that this (normal) reading closed.
        public var closedEpisode: Int?
        /// The channels that drove an anomalous verdict, the most unusual first (at most 3).
        public var findings: [Finding] = []

        /// The surprise on a 0–1 scale: 0.5 at the threshold, rising with the surprise.
        public var score: Double { surprise <= 0 ? 0 : surprise / (surprise + max(threshold, 1)) }

        /// Warning from the threshold, critical from twice the threshold (a chance per reading
        /// the square of the threshold's): a bigger deviation is never the milder severity.
        public var severity: Severity {
            guard anomalous else { return .none }
            return surprise >= 2 * threshold ? .critical : .warning
        }
    }

    /// One device's memory: its baseline, its detectors' running statistics, its open episode.
    public struct State: Sendable {
        struct Channel: Sendable {
            /// The expected value before the trend is added: `level + slope` is the forecast.
            var level = 0.0
            /// Change per reading (a daily cycle, slow drift): without it the forecast would lag.
            var slope = 0.0
            var spread = 0.0
            var squares = 0.0
            var up = 0.0
            var down = 0.0
            var last = Double.nan
            var run = 0
            var repeats = 0
            /// −log10 of the chance a normal reading repeats the last one exactly.
            var repeatSurprise = 0.0
            /// While learning: the last forecast error and the sum of products of consecutive ones.
            var lastError = 0.0
            var lagProducts = 0.0
            /// What the CUSUM multiplies a standardised error by: less than 1 when errors follow
            /// each other (a smoothed sensor), whose runs to one side are then no surprise.
            var chartScale = 1.0
            /// The trend's own spread: while learning, the sum of squared slopes; then how far the
            /// slope strays from 0 on a normal device (a daily cycle, slow wander).
            var slopeSquares = 0.0
            var slopeSpread = 0.0
            /// Where the channel usually is: the level, forgotten over about a day of readings,
            /// and only from readings without a drift (what a drift is measured from).
            var anchor = 0.0
        }

        struct Thresholds: Sendable {
            /// The surprise at which a reading is anomalous.
            var surprise: Double
            /// The CUSUM limit with the same surprise.
            var cusum: Double
        }

        /// Readings since the device started (or restarted) learning.
        public internal(set) var readings = 0
        /// Episodes this device has opened.
        public internal(set) var episodes = 0
        var channels: [Channel]
        /// While learning: sums of products of residuals (upper triangle); then the Cholesky
        /// factor of their correlation (lower triangle, row by row).
        var relation: [Double]
        var residuals = 0
        var firstTime: Double?
        var lastTime: Double?
        var thresholds: Thresholds?
        var openEpisode: (number: Int, length: Int, normalRun: Int)?

        public init(channels: Int) {
            self.channels = Array(repeating: Channel(), count: channels)
            relation = Array(repeating: 0, count: channels * (channels + 1) / 2)
        }

        public var isLearning: Bool { thresholds == nil }
        /// Whether the next reading's time is used: only the first and last of the warm-up
        /// are (they give the reading rate), so callers parse timestamps only then.
        public func wantsTime(warmUp: Int) -> Bool { readings == 0 || readings == warmUp - 1 }
        /// The episode open now, if any.
        public var openEpisodeNumber: Int? { openEpisode?.number }
    }

    public let settings: Settings
    /// The CUSUM's reference value, in standard deviations: it is quickest on shifts of twice that.
    static let cusumReference = 1.0
    /// The most one reading adds to the CUSUM, in standard deviations.
    static let cusumStep = 4.0
    /// A channel's baseline learns from readings within this many standard deviations of it.
    static let learningClip = 3.0
    /// Readings after which the slope has settled enough to learn its spread from.
    static let slopeSettling = 30
    /// How slowly the slope's spread and the anchor follow a warm device (weights per reading).
    static let slopeSpreadWeight = 1.0 / 2880
    static let anchorWeight = 1.0 / 1440

    /// Brown's double exponential smoothing with one discount from the half-life, as Holt's
    /// linear trend: the level corrects by `levelGain` of a forecast error, the slope by
    /// `slopeGain`; the spread follows ten times slower.
    private let levelGain: Double
    private let slopeGain: Double
    private let spreadWeight: Double
    /// The standard deviation of the slope on pure noise, per unit of the channel's spread.
    private let slopeNoise: Double

    public init(settings: Settings = Settings()) {
        self.settings = settings
        let discount = exp(-log(2) / max(settings.levelHalfLife, 1))
        levelGain = 1 - discount * discount
        slopeGain = (1 - discount) * (1 - discount)
        spreadWeight = (1 - discount) / 10
        slopeNoise = pow(1 - discount, 1.5)
    }

    /// Judges one reading of `values` (one per channel, the state's channel count), taken at
    /// `time` (seconds; nil when unknown or not wanted). While the device is learning, the
    /// caller's fleet model judges: `fleetFlagged` readings count in the device's episodes and
    /// are kept out of what it learns.
    public func judge(
        _ values: [Double], at time: Double? = nil, fleetFlagged: Bool = false, state: inout State
    ) -> Verdict {
        values.withUnsafeBufferPointer { judge($0, at: time, fleetFlagged: fleetFlagged, state: &state) }
    }

    public func judge(
        _ values: UnsafeBufferPointer<Double>, at time: Double? = nil, fleetFlagged: Bool = false,
        state: inout State
    ) -> Verdict {
        precondition(values.count == state.channels.count, "DeviceDetector: expected \(state.channels.count) values")
        guard let thresholds = state.thresholds else {
            var verdict = Verdict(learning: true, anomalous: fleetFlagged)
            if !fleetFlagged { learn(values, at: time, state: &state) }
            track(&verdict, state: &state)
            return verdict
        }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: values.count * 2) { scratch in
            judgeWarm(values, thresholds: thresholds, scratch: scratch, state: &state)
        }
    }

    // MARK: Learning

    /// Moves the channel's forecast one reading on, corrected by the forecast error `e` (0 for a
    /// reading the baseline must not learn from).
    private func advance(_ channel: inout State.Channel, error e: Double) {
        channel.level += channel.slope + levelGain * e
        channel.slope += slopeGain * e
    }

    private func learn(_ values: UnsafeBufferPointer<Double>, at time: Double?, state: inout State) {
        if let time {
            if state.readings == 0 { state.firstTime = time }
            state.lastTime = time
        }
        let n = values.count
        if state.readings == 0 {
            for c in 0..<n { (state.channels[c].level, state.channels[c].last) = (values[c], values[c]) }
        } else {
            // Errors of the one-step forecast (before this reading), clipped
            // once there are enough to know the spread, so a glitch cannot teach the baseline.
            withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { residual in
                for c in 0..<n {
                    var e = values[c] - (state.channels[c].level + state.channels[c].slope)
                    if state.residuals >= 30 {
                        let limit = 4 * (state.channels[c].squares / Double(state.residuals)).squareRoot()
                        if limit > 0 { e = min(max(e, -limit), limit) }
                    }
                    residual[c] = e
                    state.channels[c].squares += e * e
                    state.channels[c].lagProducts += e * state.channels[c].lastError
                    state.channels[c].lastError = e
                    advance(&state.channels[c], error: e)
                    if state.readings >= Self.slopeSettling {
                        state.channels[c].slopeSquares += state.channels[c].slope * state.channels[c].slope
                    }
                    if values[c] == state.channels[c].last { state.channels[c].repeats += 1 }
                    state.channels[c].last = values[c]
                }
                var index = 0
                for i in 0..<n {
                    for j in i..<n {
                        state.relation[index] += residual[i] * residual[j]
                        index += 1
                    }
                }
            }
            state.residuals += 1
        }
        state.readings += 1
        if state.readings >= settings.warmUp { finishLearning(&state) }
    }

    private func finishLearning(_ state: inout State) {
        let n = state.channels.count
        let count = Double(max(state.residuals, 1))
        for c in 0..<n {
            let level = state.channels[c].level
            // A channel that never moved while learning still needs a scale: any change is then
            // measured against a millionth of its level.
            let floor = 1e-6 * max(1, abs(level))
            state.channels[c].spread = max((state.channels[c].squares / count).squareRoot(), floor)
            // Laplace's rule: a channel that never repeated still may, once in readings+1.
            let repeatChance = Double(state.channels[c].repeats + 1) / Double(state.readings + 1)
            state.channels[c].repeatSurprise = repeatChance > 0.5 ? 0 : -log10(repeatChance)
            // Errors correlated with their predecessor (lag-1 ρ) make a sum of n of them vary
            // (1+ρ)/(1−ρ) times as much as independent ones: the chart's step shrinks to match.
            let squares = state.channels[c].squares
            let rho = squares > 0 ? min(max(state.channels[c].lagProducts / squares, 0), 0.9) : 0
            state.channels[c].chartScale = ((1 - rho) / (1 + rho)).squareRoot()
            // The slope's spread, never below what noise alone gives a slope of this smoothing.
            let slopes = Double(max(state.readings - Self.slopeSettling, 1))
            state.channels[c].slopeSpread = max(
                (state.channels[c].slopeSquares / slopes).squareRoot(),
                state.channels[c].spread * slopeNoise)
            state.channels[c].anchor = level
        }
        // The correlation of the residuals, shrunk 5% towards independence so it always
        // factors, then its Cholesky factor for T².
        var correlation = [Double](repeating: 0, count: n * n)
        var index = 0
        for i in 0..<n {
            for j in i..<n {
                let covariance = state.relation[index] / count
                let shrunk = 0.95 * covariance / (state.channels[i].spread * state.channels[j].spread)
                let value = i == j ? 1 : min(max(shrunk, -0.95), 0.95)
                (correlation[i * n + j], correlation[j * n + i]) = (value, value)
                index += 1
            }
        }
        state.relation = Self.choleskyPacked(correlation, n: n)

        let interval: Double
        if let first = state.firstTime, let last = state.lastTime, last > first, state.readings > 1 {
            interval = (last - first) / Double(state.readings - 1)
        } else {
            interval = settings.defaultInterval
        }
        let readingsPerDay = 86_400 / interval
        // Each reading takes 4 tests per channel and one joint test; a false episode opens when
        // any of them fires, so each gets an equal share of the per-reading budget.
        let tests = 4 * n + (n > 1 ? 1 : 0)
        let perTest = settings.falseEpisodesPerDeviceDay / readingsPerDay / Double(tests)
        let surprise = -log10(perTest)
        state.thresholds = .init(
            surprise: surprise, cusum: Surprise.cusumThreshold(surprise, reference: Self.cusumReference))
    }

    /// The lower-triangular L with L·Lᵀ = `matrix` (n×n, row-major), packed row by row.
    static func choleskyPacked(_ matrix: [Double], n: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = matrix[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = i == j ? max(sum, 1e-9).squareRoot() : sum / l[j * n + j]
            }
        }
        var packed: [Double] = []
        packed.reserveCapacity(n * (n + 1) / 2)
        for i in 0..<n { for j in 0...i { packed.append(l[i * n + j]) } }
        return packed
    }

    // MARK: Judging

    private func judgeWarm(
        _ values: UnsafeBufferPointer<Double>, thresholds: State.Thresholds,
        scratch: UnsafeMutableBufferPointer<Double>, state: inout State
    ) -> Verdict {
        let n = values.count
        let k = Self.cusumReference
        let cap = thresholds.cusum + 1
        var best = (surprise: 0.0, detector: DetectorKind.spike)
        // scratch[0..<n]: each channel's z; scratch[n..<2n]: its own largest surprise.
        for c in 0..<n {
            var channel = state.channels[c]
            let z = (values[c] - (channel.level + channel.slope)) / channel.spread
            scratch[c] = z
            // Surprises below 1.3 (|z| < 2) cannot matter against a threshold near 6: skip the erfc.
            var own = abs(z) > 2 ? Surprise.twoSided(z) : 0
            var detector = DetectorKind.spike
            // One reading adds at most `cusumStep` (a spike is the single-reading test's to
            // see, and must not leave the chart high), and the chart is capped just above its
            // limit, so it falls back within two readings once a shift is over.
            let step = min(max(z * channel.chartScale, -Self.cusumStep), Self.cusumStep)
            channel.up = min(max(0, channel.up + step - k), cap)
            channel.down = min(max(0, channel.down - step - k), cap)
            let chart = max(channel.up, channel.down)
            if chart > thresholds.cusum / 2 {
                let shift = Surprise.cusum(chart, reference: k)
                if shift > own { (own, detector) = (shift, .shift) }
            }
            channel.run = values[c] == channel.last ? channel.run + 1 : 0
            channel.last = values[c]
            let stuck = Double(channel.run) * channel.repeatSurprise
            if stuck > own { (own, detector) = (stuck, .stuck) }
            // A drift is a trend steeper than normal that has taken the channel away from where it
            // usually is: once it is back there, what is left of the trend is no fault.
            let trend = channel.slope / channel.slopeSpread
            if abs(trend) > 2, abs(channel.level - channel.anchor) > Self.learningClip * channel.spread {
                let drift = Surprise.twoSided(trend)
                if drift > own { (own, detector) = (drift, .drift) }
            }
            scratch[n + c] = own
            if own > best.surprise { best = (own, detector) }
            state.channels[c] = channel
        }
        if n > 1 {
            let t2 = hotellingT2(z: UnsafeBufferPointer(rebasing: scratch[0..<n]), factor: state.relation)
            if t2 > Double(n) + 3 * (2 * Double(n)).squareRoot() {
                let joint = Surprise.chiSquare(t2, degrees: n)
                if joint > best.surprise { best = (joint, .relation) }
            }
        }

        var verdict = Verdict(surprise: best.surprise, threshold: thresholds.surprise)
        verdict.anomalous = best.surprise >= thresholds.surprise
        if verdict.anomalous {
            verdict.detector = best.detector
            verdict.findings = findings(values, scratch: scratch, detector: best.detector, state: state)
        }
        track(&verdict, state: &state)
        // A device that has just begun to learn again starts from its next reading.
        guard !state.isLearning else { return verdict }
        // The baseline learns channel by channel, whatever the verdict: one frozen for a whole
        // episode would fall behind a daily cycle and keep the episode open by itself.
        for c in 0..<n {
            // A channel further off than `learningClip` teaches its baseline nothing (not even the
            // trend, which a long fault would otherwise carry anywhere); every other reading does.
            let z = scratch[c]
            guard abs(z) <= Self.learningClip else { continue }
            let spread = state.channels[c].spread
            advance(&state.channels[c], error: z * spread)
            let variance = spread * spread
            state.channels[c].spread = (variance + spreadWeight * (z * z * variance - variance)).squareRoot()
            // The trend's spread and the anchor learn only from a device that is not drifting.
            let slope = state.channels[c].slope
            let slopeSpread = state.channels[c].slopeSpread
            guard abs(slope) <= Self.learningClip * slopeSpread else { continue }
            state.channels[c].slopeSpread =
                (slopeSpread * slopeSpread
                + Self.slopeSpreadWeight * (slope * slope - slopeSpread * slopeSpread)).squareRoot()
            state.channels[c].anchor += Self.anchorWeight * (state.channels[c].level - state.channels[c].anchor)
        }
        return verdict
    }

    /// Opens, continues or closes the device's episode after a verdict.
    private func track(_ verdict: inout Verdict, state: inout State) {
        if verdict.anomalous {
            if var open = state.openEpisode {
                (open.length, open.normalRun) = (open.length + 1, 0)
                state.openEpisode = open
            } else {
                state.episodes += 1
                state.openEpisode = (state.episodes, 1, 0)
                verdict.opened = true
            }
            verdict.episode = state.openEpisode?.number
            if let open = state.openEpisode, open.length >= settings.relearnAfter {
                // So long an episode is the device's new normal: learn it afresh.
                verdict.closedEpisode = open.number
                let episodes = state.episodes
                state = State(channels: state.channels.count)
                state.episodes = episodes
            }
        } else if var open = state.openEpisode {
            (open.length, open.normalRun) = (open.length + 1, open.normalRun + 1)
            if open.normalRun >= settings.closeAfter {
                verdict.closedEpisode = open.number
                state.openEpisode = nil
                for c in state.channels.indices { (state.channels[c].up, state.channels[c].down) = (0, 0) }
            } else {
                state.openEpisode = open
            }
        }
    }

    /// zᵀR⁻¹z through the Cholesky factor L of R: solve L·y = z, then |y|².
    private func hotellingT2(z: UnsafeBufferPointer<Double>, factor: [Double]) -> Double {
        let n = z.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { y in
            var total = 0.0
            var row = 0
            for i in 0..<n {
                var sum = z[i]
                for j in 0..<i { sum -= factor[row + j] * y[j] }
                let value = sum / factor[row + i]
                y[i] = value
                total += value * value
                row += i + 1
            }
            return total
        }
    }

    /// The channels behind an anomalous verdict, the most unusual first, at most three: those
    /// with a surprise of their own, or for a relation, those furthest from expected.
    private func findings(
        _ values: UnsafeBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>,
        detector: DetectorKind, state: State
    ) -> [Finding] {
        let n = values.count
        let order = (0..<n).sorted { a, b in
            detector == .relation
                ? abs(scratch[a]) > abs(scratch[b])
                : (scratch[n + a], abs(scratch[a])) > (scratch[n + b], abs(scratch[b]))
        }
        return order.prefix(3).enumerated().compactMap { rank, c in
            guard rank == 0 || detector == .relation || scratch[n + c] >= 1 else { return nil }
            let channel = state.channels[c]
            let own: DetectorKind
            let trend = channel.slope / channel.slopeSpread
            if detector == .relation {
                own = .relation
            } else if abs(trend) > 2, abs(channel.level - channel.anchor) > Self.learningClip * channel.spread,
                Surprise.twoSided(trend) >= scratch[n + c]
            {
                // A drift is measured from where the channel usually is, not from the forecast
                // that followed it.
                return Finding(
                    channel: c, value: values[c], expected: channel.anchor, spread: channel.spread,
                    sigmas: (values[c] - channel.anchor) / channel.spread, detector: .drift)
            } else if Double(channel.run) * channel.repeatSurprise >= scratch[n + c], channel.run > 0 {
                own = .stuck
            } else if max(channel.up, channel.down) > (state.thresholds?.cusum ?? .infinity) / 2,
                Surprise.cusum(max(channel.up, channel.down), reference: Self.cusumReference) >= scratch[n + c]
            {
                own = .shift
            } else {
                own = .spike
            }
            return Finding(
                channel: c, value: values[c], expected: channel.level + channel.slope, spread: channel.spread,
                sigmas: scratch[c], detector: own)
        }
    }
}
