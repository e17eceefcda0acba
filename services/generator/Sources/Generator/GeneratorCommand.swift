// `generator`: parses its settings and hands them to buildApplication, which tests call too.
import ArgumentParser
import Telemetry

enum GeneratorDefaults: ServiceDefaults {
    static let serviceName = "generator"
    static let port = 8083
}

@main
struct GeneratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generator",
        abstract: "A synthetic device fleet and log replay that feeds the mesh at a chosen rate.")

    @OptionGroup var options: ServiceOptions<GeneratorDefaults>

    func run() async throws {
        let runtime = ServiceRuntime.bootstrap(try options.resolve())
        try await buildApplication(runtime: runtime).runService()
    }
}
