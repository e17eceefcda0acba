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
        abstract: "Turns anomalies and Alertmanager webhooks into Slack messages, with nothing lost.",
        subcommands: [Serve.self, NotifierBenchmark.self],
        defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read anomalies, serve POST /v1/alertmanager, send Slack messages (the default).",
            discussion: """
                Reads the anomalies topic (consumer group notifier) and serves POST /v1/alertmanager. Slack: \
                SLACK_WEBHOOK_URL (incoming webhook) or SLACK_BOT_TOKEN + SLACK_CHANNEL (chat.postMessage, \
                chat.update, threads); with neither, messages go to the log and SLACK_SINK_FILE.
                """)

        @OptionGroup var options: ServiceOptions<NotifierDefaults>
        @OptionGroup var notifier: NotifierOptions

        func run() async throws {
            let settings = try notifier.resolve()
            let runtime = ServiceRuntime.bootstrap(try options.resolve(), metrics: NotifierMetrics.catalog)
            try await buildApplication(runtime: runtime, settings: settings).application.runService()
        }
    }
}
