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

    static let deviceCount = 50
    private static let fleetSeed: UInt64 = 0xA1E7_F1EE_7000_0050

    public static func normalReadings(count: Int, seed: UInt64) -> FeatureMatrix {
        var fleetRandom = RandomSource(seed: fleetSeed)
        let baselines = (0..<deviceCount).map { _ in
            (temperature: 19 + 6 * fleetRandom.nextUnit(),
             pressure: 1000 + 20 * fleetRandom.nextUnit(),
             vibration: 0.018 + 0.014 * fleetRandom.nextUnit())
        }
        var random = RandomSource(seed: seed)
        var data = FeatureMatrix(columns: 3, capacity: count)
        for index in 0..<max(0, count) {
            let device = baselines[index % deviceCount]
            let hourOfDay = 24 * random.nextUnit()
            let cycle = 2 * sin(2 * Double.pi * (hourOfDay - 9) / 24)  // peak at 15:00
            let temperature = device.temperature + cycle + 0.5 * random.nextGaussian()
            let pressure = device.pressure + 3 * random.nextGaussian()
            let vibration = device.vibration + 0.003 * random.nextGaussian()
            data.append(row: [
                min(max(temperature, 15), 30),
                min(max(pressure, 990), 1030),
                min(max(vibration, 0.01), 0.05),
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
