// `notifier`: parses its settings and hands them to buildApplication, which tests call too.
import ArgumentParser
import Telemetry

enum NotifierDefaults: ServiceDefaults {
    static let serviceName = "notifier"
    static let port = 8082
}

@main
struct NotifierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifier",
        abstract: "Turns anomalies and Alertmanager webhooks into Slack messages, with nothing lost.")

    @OptionGroup var options: ServiceOptions<NotifierDefaults>

    func run() async throws {
        let runtime = ServiceRuntime.bootstrap(try options.resolve())
        try await buildApplication(runtime: runtime).runService()
    }
}
