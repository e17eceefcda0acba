// One line of a benchmark report: what was measured, how fast, and what to know about it.

struct BenchResult {
    let name: String
    let perSecond: Double
    let note: String
}
