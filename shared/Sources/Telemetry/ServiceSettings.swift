// The settings every Alertron service shares, and how a serving command reads its settings:
// a flag wins over its environment variable, which wins over the documented default.
import ArgumentParser
import Foundation
import Logging
@_exported import Settings

/// HTTP and logging: the settings of every service process.
public struct ServiceSettings: DeclaredSettings {
    /// The service's name: logs, metrics and the Kafka client id use it.
    public var serviceName: String
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    /// How often Prometheus scrapes the service, at most: a counter series made at run time
    /// shows 0 at least this long before it counts (CountersFromZero), so every scraper sees it
    /// born at 0 and its increase() sees the first counts.
    public var scrapeIntervalSeconds = 15

    /// Tests' defaults are a loopback address and a free port; a service's are its own (below).
    public init(serviceName: String, host: String = "127.0.0.1", port: Int = 0, logLevel: Logger.Level = .info) {
        self.serviceName = serviceName
        self.host = host
        self.port = port
        self.logLevel = logLevel
    }

    /// What a service runs with unless told otherwise: every address, its documented port.
    public static func service(_ name: String, port: Int) -> ServiceSettings {
        ServiceSettings(serviceName: name, host: "0.0.0.0", port: port)
    }

    public static let declarations: [Setting<ServiceSettings>] = [
        .value(
            "port", env: "PORT", \.port,
            help: "HTTP port for the API, /metrics, /healthz and /readyz; 0 picks a free one.",
            valueName: "port", rule: "must be a TCP port (0-65535)", where: { (0...65535).contains($0) }),
        .value("host", env: "HOST", \.host, help: "Address the HTTP server listens on.", valueName: "address"),
        .parsed(
            "log-level", env: "LOG_LEVEL", \.logLevel,
            help: "trace, debug, info, notice, warning, error or critical; logs are JSON lines on stderr.",
            valueName: "level", rule: "must be one of trace, debug, info, notice, warning, error, critical",
            parse: { Logger.Level(rawValue: $0.lowercased()) }, show: { $0.rawValue }),
        .value(
            "scrape-interval", env: "METRICS_SCRAPE_INTERVAL_S", \.scrapeIntervalSeconds,
            help: """
                Seconds between Prometheus' scrapes of /metrics, at most (deploy/prometheus: 15). A counter \
                series made while running (a device's first anomaly) shows 0 this long before it counts, \
                so rate() and increase() see its first counts.
                """,
            valueName: "seconds", rule: "must be 0 to 600", where: { (0...600).contains($0) }),
    ]
}

/// The command line of a service's serving command: every setting its declarations know, plus
/// `--help` and `--show-settings` (prints the settings as resolved, secrets hidden, and exits).
public struct SettingsArguments: ParsableArguments {
    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []

    public init() {}

    /// The command's help text: its settings, each with variable and default.
    public static func discussion<Own: DeclaredSettings>(
        _ service: ServiceSettings, _ own: Own, intro: String = ""
    ) -> String {
        (intro.isEmpty ? "" : intro + "\n\n")
            + "SETTINGS (a flag wins over its environment variable, which wins over the\ndefault):\n"
            + Combined.help(defaults: Combined(service, own))
            + "\n  --show-settings\n      Print every setting as resolved (secrets hidden) and exit."
    }

    /// The service's and its own settings, resolved; errors become ArgumentParser's usage errors.
    public func resolve<Own: DeclaredSettings>(
        _ service: ServiceSettings, _ own: Own, command: any ParsableCommand.Type,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (service: ServiceSettings, own: Own) {
        if arguments.contains("--help") || arguments.contains("-h") { throw CleanExit.helpRequest(command) }
        let show = arguments.contains("--show-settings")
        do {
            let resolved = try Combined.resolve(
                arguments.filter { $0 != "--show-settings" }, environment: environment,
                defaults: Combined(service, own))
            if show { throw CleanExit.message(resolved.shown()) }
            return (resolved.first, resolved.second)
        } catch let error as SettingsError {
            throw ValidationError(error.description)
        }
    }
}
