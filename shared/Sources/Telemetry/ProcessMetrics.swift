// process_* metrics as Prometheus' own clients export them, read from /proc at scrape time,
// so dashboards can show memory and CPU per service. Registered on the runtime's registry.
import Foundation
import Prometheus
import Synchronization

final class ProcessMetrics: Sendable {
    static let help: [String: String] = [
        "process_resident_memory_bytes": "Resident memory size in bytes.",
        "process_virtual_memory_bytes": "Virtual memory size in bytes.",
        "process_cpu_seconds_total": "Total user and system CPU time spent in seconds.",
        "process_start_time_seconds": "Start time of the process since unix epoch in seconds.",
        "process_open_fds": "Number of open file descriptors.",
    ]

    private let resident: Gauge
    private let virtual: Gauge
    /// A counter, as Prometheus' own clients export it (a `_total` gauge fails `promtool
    /// check metrics`): advanced by the CPU time used since the last scrape.
    private let cpu: Prometheus.Counter
    private let cpuCounted = Mutex<Double>(0)
    private let openFiles: Gauge

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String) -> Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.help[name] ?? name))
        }
        resident = gauge("process_resident_memory_bytes")
        virtual = gauge("process_virtual_memory_bytes")
        cpu = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "process_cpu_seconds_total", unitName: "",
                helpText: Self.help["process_cpu_seconds_total"] ?? ""))
        openFiles = gauge("process_open_fds")
        gauge("process_start_time_seconds").set(Date().timeIntervalSince1970)
    }

    /// Refreshes the gauges; called right before rendering /metrics.
    func update() {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ").compactMap { Double($0) }
            if fields.count >= 2 {
                virtual.set(fields[0] * pageSize)
                resident.set(fields[1] * pageSize)
            }
        }
        var usage = rusage()
        if getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 {
            let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            let total = user + system
            let delta = cpuCounted.withLock { counted in
                defer { counted = max(counted, total) }
                return max(0, total - counted)
            }
            if delta > 0 { cpu.increment(by: delta) }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFiles.set(Double(descriptors.count))
        }
    }
}
