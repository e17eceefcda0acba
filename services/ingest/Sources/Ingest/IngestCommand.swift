// `ingest`: parses its settings and hands them to buildApplication, which tests call too.
import ArgumentParser
import Telemetry

enum IngestDefaults: ServiceDefaults {
    static let serviceName = "ingest"
    static let port = 8080
}

@main
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Alertron's HTTP front door: validates readings and log lines and produces them to the readings topic.")

    @OptionGroup var options: ServiceOptions<IngestDefaults>
    @OptionGroup var ingest: IngestOptions

    func run() async throws {
        let settings = try ingest.resolve()
        let runtime = ServiceRuntime.bootstrap(try options.resolve(), metrics: IngestMetrics.catalog)
        try await buildApplication(runtime: runtime, settings: settings).runService()
    }
}
