// The swift-metrics backend of every Alertron process: Prometheus, with the help text of
// each metric taken from one catalog, so that libraries using only swift-metrics (Kafka,
// the models) still export `# HELP` lines.
import CoreMetrics
import Prometheus

/// Help text and histogram buckets by metric name.
public struct MetricsCatalog: Sendable {
    public var help: [String: String]
    /// Buckets for timers (duration histograms) by name; others get `defaultDurationBuckets`.
    public var durationBuckets: [String: [Duration]] = [:]
    public var defaultDurationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10),
    ]
    public var valueBuckets: [String: [Double]] = [:]
    public var defaultValueBuckets: [Double] = [1, 5, 10, 50, 100, 500, 1000, 5000, 10000]

    public init(help: [String: String]) { self.help = help }

    /// Every process's common metrics: process and build info.
    public static let common = MetricsCatalog(help: ProcessMetrics.help)

    /// This catalog with a library's help text added (`KafkaMetricsHelp.all`); its own entries win.
    public func including(_ libraryHelp: [String: String]) -> MetricsCatalog {
        var merged = self
        merged.help.merge(libraryHelp) { own, _ in own }
        return merged
    }

    /// This catalog with `other`'s entries added (other wins on conflicts).
    public func merging(_ other: MetricsCatalog) -> MetricsCatalog {
        var merged = self
        merged.help.merge(other.help) { _, new in new }
        merged.durationBuckets.merge(other.durationBuckets) { _, new in new }
        merged.valueBuckets.merge(other.valueBuckets) { _, new in new }
        return merged
    }

    func descriptor(_ name: String) -> MetricNameDescriptor {
        // A name missing from the catalog still exports, with its name as help; the
        // metrics test lists exported names without real help so they get caught.
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? name)
    }
}

public struct DocumentedMetricsFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    public let catalog: MetricsCatalog

    public init(registry: PrometheusCollectorRegistry, catalog: MetricsCatalog) {
        self.registry = registry
        self.catalog = catalog
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: catalog.descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(
        label: String, dimensions: [(String, String)]
    ) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: catalog.descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: catalog.descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: catalog.descriptor(label), labels: dimensions,
            buckets: catalog.valueBuckets[label] ?? catalog.defaultValueBuckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: catalog.descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: catalog.descriptor(label), labels: dimensions,
            buckets: catalog.durationBuckets[label] ?? catalog.defaultDurationBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
