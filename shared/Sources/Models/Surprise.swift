// How improbable a statistic is on a normal device, as "surprise": −log10 of the chance of a
// value at least that extreme. Surprises of different tests are comparable, so one threshold
// derived from the noise budget serves every detector.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum Surprise {
    /// −log10 of P(|Z| ≥ |z|) for a standard normal Z (a two-sided test).
    static func twoSided(_ z: Double) -> Double {
        oneSided(abs(z)) - log10(2)
    }

    /// −log10 of P(Z ≥ z) for a standard normal Z; exact through erfc, then the asymptotic
    /// expansion where erfc underflows.
    static func oneSided(_ z: Double) -> Double {
        if z < 25 { return -log10(0.5 * erfc(z / 2.0.squareRoot())) }
        // log P(Z ≥ z) ≈ −z²/2 − log(z·√(2π)) for large z.
        return (z * z / 2 + log(z * (2 * Double.pi).squareRoot())) / log(10)
    }

    /// −log10 of P(χ²ₙ ≥ x), through the Wilson–Hilferty cube-root normal approximation.
    static func chiSquare(_ x: Double, degrees n: Int) -> Double {
        guard x > 0 else { return 0 }
        let k = Double(n)
        let spread = (2 / (9 * k)).squareRoot()
        let z = (pow(x / k, 1.0 / 3) - (1 - 2 / (9 * k))) / spread
        return max(0, oneSided(z))
    }

    /// −log10 of the chance per reading that a two-sided CUSUM with reference `k` (in standard
    /// deviations) reaches `h` on normal data: log10 of its average run length, by Siegmund's
    /// approximation ARL ≈ (e^{2k(h+1.166)} − 2k(h+1.166) − 1) / (2k²).
    static func cusum(_ h: Double, reference k: Double) -> Double {
        guard h > 0 else { return 0 }
        let a = 2 * k * (h + 1.166)
        let arl = a > 30 ? (a - log(2 * k * k)) / log(10) : log10(max(1, (exp(a) - a - 1) / (2 * k * k)))
        // Two one-sided charts: twice the chance of either.
        return max(0, arl - log10(2))
    }

    /// The smallest CUSUM limit `h` whose surprise reaches `surprise`.
    static func cusumThreshold(_ surprise: Double, reference k: Double) -> Double {
        var (low, high) = (0.0, 200.0)
        for _ in 0..<80 {
            let middle = (low + high) / 2
            if cusum(middle, reference: k) < surprise { low = middle } else { high = middle }
        }
        return high
    }
}
