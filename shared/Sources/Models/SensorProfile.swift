// The default sensor model: what "normal" readings of the fleet look like, and the model trained on them.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Normal readings of a fleet of 50 devices: temperature °C, pressure hPa, vibration g.
///
/// Each device has its own baseline (temperature 19–25 °C, pressure 1000–1020 hPa, vibration
/// 0.018–0.032 g); temperature follows a daily cycle of ±2 °C peaking mid-afternoon; every
/// value carries gaussian noise, and values are clamped to the physical ranges temperature
/// 15–30, pressure 990–1030, vibration 0.01–0.05. The fleet's baselines are fixed; the seed
/// only varies the readings, so data from two seeds comes from the same fleet.
public enum SensorProfile {
    public static let featureNames = ["temperature", "pressure", "vibration"]

    /// One device's normal operating point.
    public struct Baseline: Sendable, Equatable {
        public var temperature: Double
        public var pressure: Double
        public var vibration: Double
    }

    /// The gaussian noise of each normal reading, by feature (standard deviations).
    public static let noise = Baseline(temperature: 0.5, pressure: 3, vibration: 0.003)
    /// The physical ranges normal readings are clamped to.
    public static let physicalRange = (temperature: 15.0...30.0, pressure: 990.0...1030.0, vibration: 0.01...0.05)

    static let deviceCount = 50
    private static let fleetSeed: UInt64 = 0xA1E7_F1EE_7000_0050

    /// The baselines of the fleet's first `count` devices. The first 50 are the fleet the
    /// default model is trained on; devices beyond continue the same draw.
    public static func baselines(count: Int) -> [Baseline] {
        var fleetRandom = RandomSource(seed: fleetSeed)
        return (0..<max(0, count)).map { _ in
            Baseline(
                temperature: 19 + 6 * fleetRandom.nextUnit(),
                pressure: 1000 + 20 * fleetRandom.nextUnit(),
                vibration: 0.018 + 0.014 * fleetRandom.nextUnit())
        }
    }

    /// The temperature offset of the daily cycle at `hourOfDay` (0..<24): ±2 °C, peak at 15:00.
    public static func dailyCycle(hourOfDay: Double) -> Double {
        2 * sin(2 * Double.pi * (hourOfDay - 9) / 24)
    }

    public static func normalReadings(count: Int, seed: UInt64) -> FeatureMatrix {
        let baselines = baselines(count: deviceCount)
        var random = RandomSource(seed: seed)
        var data = FeatureMatrix(columns: 3, capacity: count)
        for index in 0..<max(0, count) {
            let device = baselines[index % deviceCount]
            let hourOfDay = 24 * random.nextUnit()
            let temperature =
                device.temperature + dailyCycle(hourOfDay: hourOfDay) + noise.temperature * random.nextGaussian()
            let pressure = device.pressure + noise.pressure * random.nextGaussian()
            let vibration = device.vibration + noise.vibration * random.nextGaussian()
            data.append(row: [
                min(max(temperature, physicalRange.temperature.lowerBound), physicalRange.temperature.upperBound),
                min(max(pressure, physicalRange.pressure.lowerBound), physicalRange.pressure.upperBound),
                min(max(vibration, physicalRange.vibration.lowerBound), physicalRange.vibration.upperBound),
            ])
        }
        return data
    }

    /// The model the scorer uses when no artifact is configured: 20 000 normal readings,
    /// default parameters (100 trees, ψ = 256, contamination 0.01), this seed for both.
    public static func trainDefault(seed: UInt64 = 1) throws(ModelError) -> IsolationForest {
        var parameters = IsolationForest.Parameters()
        parameters.seed = seed
        return try IsolationForest.train(
            normalReadings(count: 20_000, seed: seed), featureNames: featureNames, parameters: parameters)
    }
}
