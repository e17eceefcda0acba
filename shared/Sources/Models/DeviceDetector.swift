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
            /// The surprise each test of the channel is excused because a person said an episode
            /// was not an anomaly (`acceptLastEpisode`), and the largest surprise each test saw in
            /// the device's latest episode (kept after it closes, reset when the next one opens).
            var tolerance = Tests()
            var peak = Tests()
        }

        /// One surprise per test of a channel.
        struct Tests: Sendable {
            var spike = 0.0
            var shift = 0.0
            var stuck = 0.0
            var drift = 0.0
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
        /// The joint test's tolerance and peak, as each channel's.
        var relationTolerance = 0.0
        var relationPeak = 0.0

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
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: values.count * 6) { scratch in
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

    // MARK: Feedback

    /// One test that a person's "not an anomaly" widened.
    public struct Widening: Sendable, Equatable {
        /// The channel; nil for the joint test (`relation`).
        public var channel: Int?
        public var detector: DetectorKind
        /// The surprise the test is now excused: it fires from the threshold plus this.
        public var tolerance: Double
    }

    /// How far past a dismissed episode its tests are excused, in standard deviations of a
    /// normal reading as unlikely (the z whose two-sided chance is the test's). A replay of the
    /// same fault differs by its noise: its most unusual reading moves by a standard deviation or
    /// so, and the device's spread wanders a little meanwhile. (A margin in surprise units would
    /// not do: at 10σ one unit is a quarter of a standard deviation.) With 2.5, of 1200 replays
    /// of dismissed 4-12σ shifts (20 readings, fresh noise) 4 alerted; faults twice the dismissed
    /// size all did, 1.5 times about two thirds of the time (2: 15 replays alerted; 3: none, but
    /// some faults of twice the size were missed).
    public static let acceptanceMargin = 2.5
    /// The most surprise a test is ever excused: 100 (a chance 10⁻¹⁰⁰ times the threshold's;
    /// for the spike test, about 21σ), so that no number of clicks silences a test for good.
    public static let maxTolerance = 100.0

    /// A person said the device's latest episode (open now, or the last one closed) was not an
    /// anomaly. The channels at fault in it (one of their tests fired: its peak reached the
    /// threshold past what it was already excused) have each of their tests excused up to
    /// `acceptanceMargin` past its peak, at most `maxTolerance` (a test that came close without
    /// firing may fire in a replay); the joint test too, as it sees any large deviation of one
    /// channel. Other channels are untouched, and so are tests that stayed far from firing, so a
    /// fault on another channel, of another kind (a stuck channel after a dismissed shift), or
    /// clearly larger, still fires.
    ///
    /// A tolerance never decays by itself: people said so, and nothing the device does later
    /// says otherwise. It survives snapshots and the relearning of an episode that became the
    /// new normal; it goes only with the device's whole memory (a change of its channels or
    /// profile). Accepting the same episode again changes nothing, so a redelivered verdict is
    /// harmless. Returns what was widened: nothing for an episode judged while the device was
    /// learning (the fleet model's), or one it has since relearned from.
    public func acceptLastEpisode(state: inout State) -> [Widening] {
        guard let threshold = state.thresholds?.surprise else { return [] }
        var widened: [Widening] = []
        func widen(_ tolerance: inout Double, peak: Double, channel: Int?, detector: DetectorKind) {
            let excused = min(Self.excusedSurprise(past: peak) - threshold, Self.maxTolerance)
            guard excused > tolerance else { return }
            tolerance = excused
            widened.append(Widening(channel: channel, detector: detector, tolerance: excused))
        }
        func fired(_ peak: Double, _ tolerance: Double) -> Bool { peak - tolerance >= threshold }
        var anyFired = fired(state.relationPeak, state.relationTolerance)
        for c in state.channels.indices {
            let (peak, tolerance) = (state.channels[c].peak, state.channels[c].tolerance)
            guard
                fired(peak.spike, tolerance.spike) || fired(peak.shift, tolerance.shift)
                    || fired(peak.stuck, tolerance.stuck) || fired(peak.drift, tolerance.drift)
            else { continue }
            anyFired = true
            widen(&state.channels[c].tolerance.spike, peak: peak.spike, channel: c, detector: .spike)
            widen(&state.channels[c].tolerance.shift, peak: peak.shift, channel: c, detector: .shift)
            widen(&state.channels[c].tolerance.stuck, peak: peak.stuck, channel: c, detector: .stuck)
            widen(&state.channels[c].tolerance.drift, peak: peak.drift, channel: c, detector: .drift)
        }
        if anyFired {
            widen(&state.relationTolerance, peak: state.relationPeak, channel: nil, detector: .relation)
        }
        return widened
    }

    /// The surprise `acceptanceMargin` standard deviations past `peak`: the z whose two-sided
    /// surprise is `peak` (by bisection, at most 1000σ: this runs per click, not per reading),
    /// moved on by the margin.
    static func excusedSurprise(past peak: Double) -> Double {
        var (low, high) = (0.0, 1000.0)
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if Surprise.twoSided(middle) < peak { low = middle } else { high = middle }
        }
        return Surprise.twoSided(high + acceptanceMargin)
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
        // scratch[0..<n]: each channel's z; scratch[n..<2n]: its own largest surprise, less what
        // the test that found it is excused (its tolerance); scratch[2n + 4c..<2n + 4c + 4]: channel
        // c's tests as they came (spike, shift, stuck, drift), for the episode's peaks. Every
        // tolerance is 0 until a person says an episode was not an anomaly.
        for c in 0..<n {
            var channel = state.channels[c]
            let z = (values[c] - (channel.level + channel.slope)) / channel.spread
            scratch[c] = z
            // Surprises below 1.3 (|z| < 2) cannot matter against a threshold near 6: skip the erfc.
            let spike = abs(z) > 2 ? Surprise.twoSided(z) : 0
            var own = spike - channel.tolerance.spike
            var detector = DetectorKind.spike
            // One reading adds at most `cusumStep` (a spike is the single-reading test's to
            // see, and must not leave the chart high), and the chart is capped just above its
            // limit, so it falls back within two readings once a shift is over.
            let step = min(max(z * channel.chartScale, -Self.cusumStep), Self.cusumStep)
            channel.up = min(max(0, channel.up + step - k), cap)
            channel.down = min(max(0, channel.down - step - k), cap)
            let chart = max(channel.up, channel.down)
            var shift = 0.0
            if chart > thresholds.cusum / 2 {
                shift = Surprise.cusum(chart, reference: k)
                if shift - channel.tolerance.shift > own { (own, detector) = (shift - channel.tolerance.shift, .shift) }
            }
            channel.run = values[c] == channel.last ? channel.run + 1 : 0
            channel.last = values[c]
            let stuck = Double(channel.run) * channel.repeatSurprise
            if stuck - channel.tolerance.stuck > own { (own, detector) = (stuck - channel.tolerance.stuck, .stuck) }
            // A drift is a trend steeper than normal that has taken the channel away from where it
            // usually is: once it is back there, what is left of the trend is no fault.
            let trend = channel.slope / channel.slopeSpread
            var drift = 0.0
            if abs(trend) > 2, abs(channel.level - channel.anchor) > Self.learningClip * channel.spread {
                drift = Surprise.twoSided(trend)
                if drift - channel.tolerance.drift > own { (own, detector) = (drift - channel.tolerance.drift, .drift) }
            }
            let tests = 2 * n + 4 * c
            (scratch[tests], scratch[tests + 1], scratch[tests + 2], scratch[tests + 3]) = (spike, shift, stuck, drift)
            own = max(own, 0)
            scratch[n + c] = own
            if own > best.surprise { best = (own, detector) }
            state.channels[c] = channel
        }
        var joint = 0.0
        if n > 1 {
            let t2 = hotellingT2(z: UnsafeBufferPointer(rebasing: scratch[0..<n]), factor: state.relation)
            if t2 > Double(n) + 3 * (2 * Double(n)).squareRoot() {
                joint = Surprise.chiSquare(t2, degrees: n)
                if joint - state.relationTolerance > best.surprise {
                    best = (joint - state.relationTolerance, .relation)
                }
            }
        }

        var verdict = Verdict(surprise: best.surprise, threshold: thresholds.surprise)
        verdict.anomalous = best.surprise >= thresholds.surprise
        if verdict.anomalous {
            verdict.detector = best.detector
            verdict.findings = findings(values, scratch: scratch, detector: best.detector, state: state)
        }
        // The episode's peaks, before `track` can make the device learn afresh.
        if verdict.anomalous || state.openEpisode != nil {
            notePeaks(scratch, joint: joint, opening: state.openEpisode == nil, state: &state)
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
                // So long an episode is the device's new normal: learn it afresh. What people said
                // was not an anomaly stays excused (the new normal does not make it one), but the
                // episode's peaks go: the new normal already takes it in.
                verdict.closedEpisode = open.number
                var relearning = State(channels: state.channels.count)
                relearning.episodes = state.episodes
                relearning.relationTolerance = state.relationTolerance
                for c in state.channels.indices { relearning.channels[c].tolerance = state.channels[c].tolerance }
                state = relearning
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

    /// Raises the episode's peaks to this reading's tests: each channel's tests as they came
    /// (before any tolerance), and the joint test's. The reading that opens an episode starts
    /// them afresh.
    private func notePeaks(
        _ scratch: UnsafeMutableBufferPointer<Double>, joint: Double, opening: Bool, state: inout State
    ) {
        let n = state.channels.count
        for c in 0..<n {
            let tests = 2 * n + 4 * c
            var peak = opening ? State.Tests() : state.channels[c].peak
            peak.spike = max(peak.spike, scratch[tests])
            peak.shift = max(peak.shift, scratch[tests + 1])
            peak.stuck = max(peak.stuck, scratch[tests + 2])
            peak.drift = max(peak.drift, scratch[tests + 3])
            state.channels[c].peak = peak
        }
        state.relationPeak = max(opening ? 0 : state.relationPeak, joint)
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
                Surprise.twoSided(trend) - channel.tolerance.drift >= scratch[n + c]
            {
                // A drift is measured from where the channel usually is, not from the forecast
                // that followed it.
                return Finding(
                    channel: c, value: values[c], expected: channel.anchor, spread: channel.spread,
                    sigmas: (values[c] - channel.anchor) / channel.spread, detector: .drift)
            } else if Double(channel.run) * channel.repeatSurprise - channel.tolerance.stuck >= scratch[n + c],
                channel.run > 0
            {
                own = .stuck
            } else if max(channel.up, channel.down) > (state.thresholds?.cusum ?? .infinity) / 2,
                Surprise.cusum(max(channel.up, channel.down), reference: Self.cusumReference)
                    - channel.tolerance.shift >= scratch[n + c]
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
