// process_* metrics as Prometheus' own clients export them, read from /proc at scrape time,
// so dashboards can show memory and CPU per service.
import CoreMetrics
import Foundation

public enum ProcessMetrics {
    static let help: [String: String] = [
        "process_resident_memory_bytes": "Resident memory size in bytes.",
        "process_virtual_memory_bytes": "Virtual memory size in bytes.",
        "process_cpu_seconds_total": "Total user and system CPU time spent in seconds.",
        "process_start_time_seconds": "Start time of the process since unix epoch in seconds.",
        "process_open_fds": "Number of open file descriptors.",
    ]

    private static let resident = Gauge(label: "process_resident_memory_bytes")
    private static let virtual = Gauge(label: "process_virtual_memory_bytes")
    private static let cpu = Gauge(label: "process_cpu_seconds_total")
    private static let start = Gauge(label: "process_start_time_seconds")
    private static let openFiles = Gauge(label: "process_open_fds")
    private static let startTime = Date().timeIntervalSince1970

    /// Refreshes the gauges; call right before rendering /metrics.
    public static func update() {
        start.record(startTime)
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ").compactMap { Double($0) }
            if fields.count >= 2 {
                virtual.record(fields[0] * pageSize)
                resident.record(fields[1] * pageSize)
            }
        }
        var usage = rusage()
        if getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 {
            let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            cpu.record(user + system)
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFiles.record(descriptors.count)
        }
    }
}
