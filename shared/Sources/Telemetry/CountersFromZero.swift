// Counters whose label values become known while a service runs (a device's id). Prometheus'
// rate() and increase() cannot see the value a series is born with: a device whose first
// scrape already shows 10 anomalies adds nothing to `sum(increase(anomaly_count_total[5m]))`.
// So each series is first shown to a scrape at 0, and what it counts before that scrape has
// finished waits until it has.
import CoreMetrics
import Synchronization

/// The service's /metrics scrapes as they start and finish.
public final class ScrapeClock: Sendable {
    private struct State {
        var started = 0
        var families: [@Sendable (_ scrape: Int) -> Void] = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Numbers a scrape about to render; pass the number to `finished`.
    public func starting() -> Int {
        state.withLock { state in
            state.started += 1
            return state.started
        }
    }

    /// Every series made before scrape `number` started has now been shown at its value.
    public func finished(_ number: Int) {
        let families = state.withLock { $0.families }
        for family in families { family(number) }
    }

    /// The number of the latest scrape to have started.
    var latest: Int { state.withLock { $0.started } }

    func onFinished(_ family: @escaping @Sendable (_ scrape: Int) -> Void) {
        state.withLock { $0.families.append(family) }
    }
}

/// One counter name whose label sets appear at run time. `declare` makes a series at 0 (each
/// severity of a device when it is first seen, say); `increment` counts, declaring the series
/// first if need be. Counts for a series no scrape has shown yet are held back until one has:
/// they reach Prometheus one scrape later, and its increase() sees all of them. Without a
/// scrape clock (unit tests reading TestMetrics) every count lands at once.
public final class CountersFromZero: Sendable {
    private struct Series {
        var counter: Counter
        /// The latest scrape that had started when the series was made: a scrape numbered
        /// higher rendered it.
        var bornAfter: Int
        var held: Int64 = 0
        var shown: Bool
    }
    private struct State {
        var series: [String: Series] = [:]
        /// Keys of series not yet shown, so a scrape's end does not walk all of them.
        var unshown: [String] = []
    }

    private let label: String
    private let handles: MetricHandles
    private let clock: ScrapeClock?
    private let state = Mutex(State())

    public init(_ label: String, handles: MetricHandles) {
        self.label = label
        self.handles = handles
        clock = handles.scrapeClock
        clock?.onFinished { [weak self] scrape in self?.release(shownBy: scrape) }
    }

    /// Makes the series at 0 if it does not exist yet.
    public func declare(_ dimensions: [(String, String)]) {
        let key = Self.key(dimensions)
        state.withLock { state in _ = series(key, dimensions, in: &state) }
    }

    public func increment(_ dimensions: [(String, String)], by amount: Int = 1) {
        let key = Self.key(dimensions)
        let counter: Counter? = state.withLock { state in
            series(key, dimensions, in: &state)
            if state.series[key]!.shown { return state.series[key]!.counter }
            state.series[key]!.held += Int64(amount)
            return nil
        }
        counter?.increment(by: amount)
    }

    @discardableResult
    private func series(_ key: String, _ dimensions: [(String, String)], in state: inout State) -> Series {
        if let existing = state.series[key] { return existing }
        let made = Series(
            counter: handles.counter(label, dimensions), bornAfter: clock?.latest ?? 0, shown: clock == nil)
        state.series[key] = made
        if !made.shown { state.unshown.append(key) }
        return made
    }

    private func release(shownBy scrape: Int) {
        let released: [(Counter, Int64)] = state.withLock { state in
            var released: [(Counter, Int64)] = []
            state.unshown.removeAll { key in
                guard state.series[key]!.bornAfter < scrape else { return false }
                state.series[key]!.shown = true
                if state.series[key]!.held > 0 {
                    released.append((state.series[key]!.counter, state.series[key]!.held))
                }
                state.series[key]!.held = 0
                return true
            }
            return released
        }
        for (counter, amount) in released { counter.increment(by: amount) }
    }

    private static func key(_ dimensions: [(String, String)]) -> String {
        dimensions.map { "\($0.0)\u{0}\($0.1)" }.joined(separator: "\u{0}")
    }
}
