// `scorer`: parses its settings and hands them to buildApplication, which tests call too.
import ArgumentParser
import Telemetry

enum ScorerDefaults: ServiceDefaults {
    static let serviceName = "scorer"
    static let port = 8081
}

@main
struct ScorerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorer",
        abstract: "Scores readings with an Isolation Forest and log lines with a severity classifier; produces scored and anomalies.")

    @OptionGroup var options: ServiceOptions<ScorerDefaults>

    func run() async throws {
        let runtime = ServiceRuntime.bootstrap(try options.resolve())
        try await buildApplication(runtime: runtime).runService()
    }
}
