// `ingest`: parses its settings and hands them to buildApplication, which tests call too.
import ArgumentParser
import Ingest
import Telemetry

@main
struct IngestCommand: AsyncParsableCommand {
    static let service = ServiceSettings.service("ingest", port: 8080)

    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract:
            "Alertron's HTTP front door: validates readings and log lines and produces them to the readings topic.",
        discussion: SettingsArguments.discussion(service, IngestSettings()))

    @OptionGroup var arguments: SettingsArguments

    func run() async throws {
        let (service, settings) = try arguments.resolve(Self.service, IngestSettings(), command: Self.self)
        let runtime = ServiceRuntime.bootstrap(service, metrics: IngestMetrics.catalog)
        try await buildApplication(runtime: runtime, settings: settings).runService()
    }
}
