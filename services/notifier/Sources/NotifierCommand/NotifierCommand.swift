// `notifier`: parses its settings and hands them to buildApplication, which tests call too.
import ArgumentParser
import Notifier
import Telemetry

@main
struct NotifierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifier",
        abstract: "Turns anomalies and Alertmanager webhooks into Slack messages, with nothing lost.",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let service = ServiceSettings.service("notifier", port: 8082)
        static let configuration = CommandConfiguration(
            abstract: "Read anomalies, serve POST /v1/alertmanager, send Slack messages (the default).",
            discussion: SettingsArguments.discussion(
                service, NotifierSettings(),
                intro: """
                    Reads the anomalies topic (consumer group notifier) and serves POST /v1/alertmanager. Slack: \
                    SLACK_WEBHOOK_URL (incoming webhook) or SLACK_BOT_TOKEN + SLACK_CHANNEL (chat.postMessage, \
                    chat.update, threads); with neither, messages go to the log and SLACK_SINK_FILE.
                    """))

        @OptionGroup var arguments: SettingsArguments

        func run() async throws {
            let (service, settings) = try arguments.resolve(Self.service, NotifierSettings(), command: Self.self)
            let runtime = ServiceRuntime.bootstrap(service, metrics: NotifierMetrics.catalog)
            try await buildApplication(runtime: runtime, settings: settings).application.runService()
        }
    }
}
