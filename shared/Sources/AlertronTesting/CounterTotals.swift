// Counter totals read from swift-metrics' test factory, for one-line expectations.
import MetricsTestKit

extension TestMetrics {
    /// The total of the counter `label` with exactly these dimensions; nil when it was never made.
    public func total(_ label: String, _ dimensions: (String, String)...) -> Int64? {
        (try? expectCounter(label, dimensions))?.totalValue
    }
}
