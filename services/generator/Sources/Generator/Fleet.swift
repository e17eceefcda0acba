// The synthetic device fleet: each device's normal readings (its own baseline, slow drift,
// the daily cycle, noise) with faults injected on schedule. Pure: the same seed and
// configuration give the same readings, whenever and wherever they are generated.
import Foundation
import Models

struct Fleet: Sendable {
    struct Configuration: Sendable, Equatable {
        /// Devices `edge-1` ... `edge-<devices>`; the first 50 are the fleet the default
        /// sensor model is trained on (`SensorProfile.baselines`).
        var devices = 50
        /// Fraction of readings that are anomalous in the long run.
        var anomalyRate = 0.02
        var anomalyKinds = AnomalyKind.allCases
        /// Simulated seconds between two readings of one device: the fleet's clock, which
        /// drives the daily cycle and drift (60: a day passes every 1440 readings per device).
        var interval = 60.0
    }

    /// One reading as the fleet produced it, before it becomes an event.
    struct Output: Sendable, Equatable {
        /// Index into the fleet, 0-based (its id is `edge-<device + 1>`).
        var device: Int
        var values: SensorValues
        var anomaly: AnomalyKind?
    }

    /// How far drift wanders: its stationary standard deviation as a fraction of the
    /// feature's noise. The default model was trained without drift, so drift widens normal
    /// readings beyond its training data: at 0.3 the model flags about 1.3% of normal
    /// readings (1% on its own training data), at 0.5 about 1.9%.
    static let driftScale = 0.3
    /// Drift's memory: an Ornstein–Uhlenbeck process relaxing with this time constant.
    static let driftTimeConstant = 6.0 * 3600
    /// Resolution of reported values (0.01 °C, 0.01 hPa, 0.0001 g), as a sensor reports them;
    /// short numbers also keep the JSON small.
    static let resolution = SensorValues(100, 100, 10_000)

    private struct Device: Sendable {
        var baseline: SensorValues
        var drift: SensorValues
        var episode: AnomalyEpisode?
        var lastEmitted: SensorValues?
    }

    let configuration: Configuration
    private var random: RandomSource
    private var devices: [Device]
    private let schedule: AnomalySchedule
    private let noise: SensorValues
    private let driftDecay: Double
    private let driftStep: SensorValues
    private let lowest: SensorValues
    private let highest: SensorValues
    private var nextDevice = 0

    init(configuration: Configuration, seed: UInt64) {
        self.configuration = configuration
        random = RandomSource(seed: seed, stream: 1)
        schedule = AnomalySchedule(rate: configuration.anomalyRate, kinds: configuration.anomalyKinds)
        let profileNoise = SensorProfile.noise
        noise = SensorValues(profileNoise.temperature, profileNoise.pressure, profileNoise.vibration)
        let range = SensorProfile.physicalRange
        lowest = SensorValues(range.temperature.lowerBound, range.pressure.lowerBound, range.vibration.lowerBound)
        highest = SensorValues(range.temperature.upperBound, range.pressure.upperBound, range.vibration.upperBound)
        driftDecay = exp(-configuration.interval / Self.driftTimeConstant)
        let driftSpread = noise * Self.driftScale
        driftStep = driftSpread * (1 - driftDecay * driftDecay).squareRoot()
        var random = self.random
        // Drift starts from its stationary distribution, so the first day looks like any other.
        devices = SensorProfile.baselines(count: configuration.devices).map { baseline in
            Device(
                baseline: SensorValues(baseline.temperature, baseline.pressure, baseline.vibration),
                drift: driftSpread * SensorValues(random.nextGaussian(), random.nextGaussian(), random.nextGaussian()))
        }
        self.random = random
    }

    /// The next reading, round-robin over the devices. `fleetTime` (seconds since a midnight)
    /// places it in the day.
    mutating func nextReading(fleetTime: Double) -> Output {
        let index = nextDevice
        nextDevice = nextDevice + 1 == devices.count ? 0 : nextDevice + 1
        var device = devices[index]

        device.drift = device.drift * driftDecay + driftStep * gaussians()
        let hourOfDay = (fleetTime / 3600).truncatingRemainder(dividingBy: 24)
        var values = device.baseline + device.drift + noise * gaussians()
        values.x += SensorProfile.dailyCycle(hourOfDay: hourOfDay)
        // Normal readings stay within the physical ranges, as the training data does.
        values = values.clamped(lowerBound: lowest, upperBound: highest)

        var anomaly: AnomalyKind?
        if device.episode == nil, let kind = schedule.draw(&random) {
            device.episode = AnomalyEpisode(
                kind: kind, current: values, lastEmitted: device.lastEmitted, random: &random)
        }
        if var episode = device.episode {
            values = episode.apply(to: values)
            anomaly = episode.kind
            device.episode = episode.isOver ? nil : episode
        }
        values = (values * Self.resolution).rounded(.toNearestOrEven) / Self.resolution
        device.lastEmitted = values
        devices[index] = device
        return Output(device: index, values: values, anomaly: anomaly)
    }

    private mutating func gaussians() -> SensorValues {
        SensorValues(random.nextGaussian(), random.nextGaussian(), random.nextGaussian())
    }
}
