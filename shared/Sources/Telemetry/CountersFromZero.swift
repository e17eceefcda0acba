// Counters whose label values become known while a service runs (a device's id). Prometheus'
// rate() and increase() cannot see the value a series is born with: a device whose first
// scrape already shows 10 anomalies adds nothing to `sum(increase(anomaly_count_total[5m]))`.
// So each series first shows 0, to one scrape at least and for as long as the longest scrape
// interval (every scraper then sees it at 0), and what it counts meanwhile waits.
import CoreMetrics
import Synchronization

/// The service's /metrics scrapes as they start and finish, and how long a series made at run
/// time shows 0: at least `hold` (the longest scrape interval expected), so every scraper (an HA
/// pair, a person with curl) sees it at 0 once, and at least until one scrape has shown it.
public final class ScrapeClock: Sendable {
    private struct State {
        var started = 0
        var finished = 0
        var families: [@Sendable (_ shownBefore: Int, _ bornBy: ContinuousClock.Instant) -> Void] = []
    }
    private let state = Mutex(State())
    let hold: Duration

    public init(hold: Duration = .seconds(15)) {
        self.hold = hold
    }

    /// Numbers a scrape about to render, after releasing what is due; pass the number to `finished`.
    public func starting() -> Int {
        let (number, finished, families) = state.withLock { state in
            state.started += 1
            return (state.started, state.finished, state.families)
        }
        let bornBy = ContinuousClock.now - hold
        for family in families { family(finished, bornBy) }
        return number
    }

    /// Scrape `number` has rendered every series made before it started.
    public func finished(_ number: Int) {
        state.withLock { $0.finished = max($0.finished, number) }
    }

    /// The number of the latest scrape to have started.
    var latest: Int { state.withLock { $0.started } }

    func onScrape(_ release: @escaping @Sendable (_ shownBefore: Int, _ bornBy: ContinuousClock.Instant) -> Void) {
        state.withLock { $0.families.append(release) }
    }
}

/// One counter name whose label sets appear at run time. `declare` makes a series at 0 (each
/// severity of a device when it is first seen, say); `increment` counts, declaring the series
/// first if need be. A new series' counts are held back while it is younger than the clock's
/// hold or no scrape has shown it yet: they reach Prometheus up to a scrape interval later, and
/// its increase() sees all of them. Without a scrape clock (unit tests reading TestMetrics)
/// every count lands at once.
public final class CountersFromZero: Sendable {
    private struct Series {
        var counter: Counter
        /// The latest scrape that had started when the series was made: a scrape numbered
        /// higher rendered it.
        var bornAfter: Int
        var bornAt: ContinuousClock.Instant
        var held: Int64 = 0
        var released: Bool
    }
    private struct State {
        var series: [String: Series] = [:]
        /// Keys of series still holding back, so a scrape does not walk all of them.
        var holding: [String] = []
    }

    private let label: String
    private let handles: MetricHandles
    private let clock: ScrapeClock?
    private let state = Mutex(State())

    public init(_ label: String, handles: MetricHandles) {
        self.label = label
        self.handles = handles
        clock = handles.scrapeClock
        clock?.onScrape { [weak self] shownBefore, bornBy in self?.release(shownBefore: shownBefore, bornBy: bornBy) }
    }

    /// Makes the series at 0 if it does not exist yet.
    public func declare(_ dimensions: [(String, String)]) {
        let key = Self.key(dimensions)
        state.withLock { state in series(key, dimensions, in: &state) }
    }

    public func increment(_ dimensions: [(String, String)], by amount: Int = 1) {
        let key = Self.key(dimensions)
        let counter: Counter? = state.withLock { state in
            series(key, dimensions, in: &state)
            if state.series[key]!.released { return state.series[key]!.counter }
            state.series[key]!.held += Int64(amount)
            return nil
        }
        counter?.increment(by: amount)
    }

    private func series(_ key: String, _ dimensions: [(String, String)], in state: inout State) {
        guard state.series[key] == nil else { return }
        // Registered (and so in every later render) before the scrape number is read.
        let counter = handles.counter(label, dimensions)
        state.series[key] = Series(
            counter: counter, bornAfter: clock?.latest ?? 0, bornAt: .now, released: clock == nil)
        if clock != nil { state.holding.append(key) }
    }

    /// At a scrape's start: the series a finished scrape has shown and that are old enough count
    /// what they held, in this scrape.
    private func release(shownBefore finished: Int, bornBy: ContinuousClock.Instant) {
        let due: [(Counter, Int64)] = state.withLock { state in
            var due: [(Counter, Int64)] = []
            state.holding.removeAll { key in
                let series = state.series[key]!
                guard series.bornAfter < finished, series.bornAt <= bornBy else { return false }
                state.series[key]!.released = true
                state.series[key]!.held = 0
                if series.held > 0 { due.append((series.counter, series.held)) }
                return true
            }
            return due
        }
        for (counter, amount) in due { counter.increment(by: amount) }
    }

    private static func key(_ dimensions: [(String, String)]) -> String {
        dimensions.map { "\($0.0)\u{0}\($0.1)" }.joined(separator: "\u{0}")
    }
}
