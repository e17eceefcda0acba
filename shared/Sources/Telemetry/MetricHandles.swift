// A service's metrics come from the factory its runtime was given: the process's Prometheus
// backend in production, or swift-metrics' TestMetrics in a test that reads what was counted.
import CoreMetrics
import Synchronization

/// Counters, gauges, timers and recorders from one factory, each made once per label and
/// dimensions and reused (swift-metrics would otherwise look it up on every use).
public final class MetricHandles: Sendable {
    public let factory: any MetricsFactory
    /// The /metrics scrapes of the registry `factory` writes to (none for TestMetrics).
    public let scrapeClock: ScrapeClock?
    private let handles = Mutex<[String: any Sendable]>([:])

    public init(factory: any MetricsFactory, scrapeClock: ScrapeClock? = nil) {
        self.factory = factory
        self.scrapeClock = scrapeClock
    }

    public func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
        handle("c", label, dimensions) { Counter(label: label, dimensions: dimensions, factory: factory) }
    }

    public func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> Gauge {
        handle("g", label, dimensions) { Gauge(label: label, dimensions: dimensions, factory: factory) }
    }

    public func timer(_ label: String, _ dimensions: [(String, String)] = []) -> Timer {
        handle("t", label, dimensions) { Timer(label: label, dimensions: dimensions, factory: factory) }
    }

    /// A histogram of values (not durations).
    public func recorder(_ label: String, _ dimensions: [(String, String)] = []) -> Recorder {
        handle("r", label, dimensions) {
            Recorder(label: label, dimensions: dimensions, aggregate: true, factory: factory)
        }
    }

    private func handle<Handle: Sendable>(
        _ kind: String, _ label: String, _ dimensions: [(String, String)],
        _ make: () -> Handle
    ) -> Handle {
        let key = ([kind, label] + dimensions.flatMap { [$0.0, $0.1] }).joined(separator: "\u{0}")
        return handles.withLock { handles in
            if let handle = handles[key] as? Handle { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }
}

extension Timer {
    public func recordInterval(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
