// The faults the fleet injects, and the exact shape of each: how long it lasts and what it
// does to a device's readings. Sizes are in units of a feature's physical range (SensorProfile),
// so they mean the same for temperature (°C), pressure (hPa) and vibration (g).
import Events
import Foundation
import Models

/// A reading's three values, in `SensorProfile.featureNames` order.
typealias SensorValues = SIMD3<Double>

enum SensorFeature: Int, CaseIterable, Sendable {
    case temperature = 0, pressure = 1, vibration = 2

    /// The feature a model column names (`SensorProfile.featureNames`).
    init?(name: String) {
        guard let index = SensorProfile.featureNames.firstIndex(of: name) else { return nil }
        self.init(rawValue: index)
    }

    /// The reading's value of this channel (NaN when it does not carry it).
    func value(of reading: Reading) -> Double {
        reading.value(of: SensorProfile.featureNames[rawValue]) ?? .nan
    }

    /// Width of the feature's physical range (temperature 15 °C, pressure 40 hPa, vibration 0.04 g).
    var width: Double {
        let range = SensorProfile.physicalRange
        return switch self {
        case .temperature: range.temperature.upperBound - range.temperature.lowerBound
        case .pressure: range.pressure.upperBound - range.pressure.lowerBound
        case .vibration: range.vibration.upperBound - range.vibration.lowerBound
        }
    }

    /// Faults only raise vibration: a machine that shakes less is not a fault, and a
    /// negative vibration is not a reading.
    func direction(_ random: inout RandomSource) -> Double {
        self == .vibration ? 1 : random.nextSign()
    }
}

/// The kinds of anomaly, as `truth.kind` names them.
enum AnomalyKind: String, CaseIterable, Sendable {
    /// One feature jumps far out (1.5–3 range widths) for a single reading.
    case spike
    /// One feature is offset by 0.3–0.6 range widths for 10–30 readings.
    case shift
    /// One feature repeats its last value for 10–30 readings.
    case stuck
    /// An overheating fault for 5–15 readings: temperature up 0.35–0.5 widths, vibration up
    /// 0.35–0.5 widths, pressure down 0.15–0.3 widths, ramping from half to full strength.
    /// Each feature alone stays near the fleet's range: only the forest can see it.
    case correlated
    /// One feature drifts away, linearly to 0.3–0.6 widths over half of 120–240 readings and
    /// back over the other half (a fouling sensor, then cleaned): no reading jumps.
    case drift

    /// Readings one episode lasts.
    var lengths: ClosedRange<Int> {
        switch self {
        case .spike: 1...1
        case .shift, .stuck: 10...30
        case .correlated: 5...15
        case .drift: 120...240
        }
    }

    var meanLength: Double { Double(lengths.lowerBound + lengths.upperBound) / 2 }

    /// Parses a comma-separated list such as `spike,shift`.
    static func list(_ text: String) -> [AnomalyKind]? {
        var kinds: [AnomalyKind] = []
        for name in text.split(separator: ",") {
            guard let kind = AnomalyKind(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                return nil
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds.isEmpty ? nil : kinds
    }
}

/// One fault in progress on one device.
struct AnomalyEpisode: Sendable {
    let kind: AnomalyKind
    let length: Int
    /// Readings of this episode emitted so far.
    private(set) var step = 0
    /// The feature a spike, shift or stuck sensor affects.
    let feature: SensorFeature
    /// What a spike or shift adds, or a correlated fault adds at full strength.
    let offset: SensorValues
    /// The value a stuck sensor repeats.
    let frozen: Double

    var isOver: Bool { step >= length }

    /// A new episode. `lastEmitted` is the device's previous reading (a stuck sensor repeats
    /// it), or nil before its first reading, when the current one is repeated instead.
    init(kind: AnomalyKind, current: SensorValues, lastEmitted: SensorValues?, random: inout RandomSource) {
        self.kind = kind
        length = random.nextInt(in: kind.lengths)
        feature = SensorFeature(rawValue: random.nextInt(below: 3))!
        var offset = SensorValues.zero
        switch kind {
        case .spike:
            offset[feature.rawValue] = feature.direction(&random) * random.nextDouble(in: 1.5..<3) * feature.width
        case .shift, .drift:
            offset[feature.rawValue] = feature.direction(&random) * random.nextDouble(in: 0.3..<0.6) * feature.width
        case .stuck:
            break
        case .correlated:
            offset = SensorValues(
                random.nextDouble(in: 0.35..<0.5) * SensorFeature.temperature.width,
                -random.nextDouble(in: 0.15..<0.3) * SensorFeature.pressure.width,
                random.nextDouble(in: 0.35..<0.5) * SensorFeature.vibration.width)
        }
        self.offset = offset
        frozen = (lastEmitted ?? current)[feature.rawValue]
    }

    /// The faulty version of a normal reading `values`; advances the episode by one reading.
    mutating func apply(to values: SensorValues) -> SensorValues {
        defer { step += 1 }
        var faulty = values
        switch kind {
        case .spike, .shift:
            faulty += offset
        case .stuck:
            faulty[feature.rawValue] = frozen
        case .correlated:
            // Faults grow: half strength at the first reading, full at the last.
            let strength = length > 1 ? 0.5 + 0.5 * Double(step) / Double(length - 1) : 1
            faulty += offset * strength
        case .drift:
            // Up to full strength at the middle, back to none at the end.
            let half = Double(length) / 2
            faulty += offset * (1 - abs(Double(step + 1) - half) / half)
        }
        return faulty
    }
}

/// When episodes start and which kind: each kind gets an equal share of the anomalous
/// readings, and `rate` of all readings are anomalous in the long run.
struct AnomalySchedule: Sendable {
    let rate: Double
    let kinds: [AnomalyKind]
    /// Chance that a device not in an episode starts one at its next reading.
    let startProbability: Double
    /// Cumulative probabilities of each kind, given that an episode starts.
    private let cumulative: [Double]

    init(rate: Double, kinds: [AnomalyKind]) {
        self.rate = rate
        self.kinds = kinds
        // Equal shares of anomalous readings mean episodes of a kind start in inverse
        // proportion to its mean length (a spike is one reading, a shift twenty).
        let weights = kinds.map { 1 / $0.meanLength }
        let total = weights.reduce(0, +)
        var running = 0.0
        cumulative = weights.map { weight in
            running += weight / total
            return running
        }
        // Per device, normal runs (geometric, mean (1-p)/p readings) alternate with episodes
        // (mean L readings), so the anomalous fraction is f = L / ((1-p)/p + L). Solving for p:
        let meanLength = kinds.isEmpty ? 1 : Double(kinds.count) / total
        startProbability = rate <= 0 || kinds.isEmpty ? 0 : rate / (rate + meanLength * (1 - rate))
    }

    /// The kind of a new episode, or nil when none starts at this reading.
    func draw(_ random: inout RandomSource) -> AnomalyKind? {
        guard startProbability > 0, random.chance(startProbability) else { return nil }
        let u = random.nextUnit()
        return kinds[cumulative.firstIndex { u < $0 } ?? kinds.count - 1]
    }
}
