// Draws the generator needs on top of Models' seeded RandomSource (the platform-stable
// generator the default model is trained with): ranges, chances, signs, and one
// independent stream per part of the generator.
import Models

extension RandomSource {
    /// An independent stream for one part of the generator (fleet, logs), so that adding
    /// log lines to a run does not change its readings.
    init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
    }

    /// Uniform in `range` (both ends included).
    mutating func nextInt(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + nextInt(below: range.count)
    }

    /// Uniform in [lower, upper).
    mutating func nextDouble(in range: Range<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnit()
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        nextUnit() < p
    }

    /// +1 or -1, evenly.
    mutating func nextSign() -> Double {
        next() >> 63 == 0 ? 1 : -1
    }
}
