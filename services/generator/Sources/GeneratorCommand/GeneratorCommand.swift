// `generator`: the generating service (`generate`, the default), the evaluation of a
// detector's verdicts against the generator's truth (`evaluate`), and a hidden benchmark.
import ArgumentParser
import Foundation
import Generator
import Logging
import ServiceLifecycle
import Telemetry
import UnixSignals

@main
struct GeneratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generator",
        abstract: "A synthetic device fleet and log replay that feeds the mesh at a chosen rate.",
        discussion: "Run 'generator generate --help' for every setting of the service.",
        subcommands: [Generate.self, Evaluate.self],
        defaultSubcommand: Generate.self)

    struct Generate: AsyncParsableCommand {
        static let service = ServiceSettings.service("generator", port: 8083)
        static let configuration = CommandConfiguration(
            abstract: "Send synthetic readings and log lines to Kafka or ingest (the default).",
            discussion: SettingsArguments.discussion(service, GeneratorSettings()))
        @OptionGroup var arguments: SettingsArguments

        func run() async throws {
            let (service, settings) = try arguments.resolve(Self.service, GeneratorSettings(), command: Self.self)
            let runtime = ServiceRuntime.bootstrap(service, metrics: GeneratorMetrics.catalog)
            let (application, worker) = try buildApplication(runtime: runtime, settings: settings)
            let group = serviceGroup(
                application: application, worker: worker, signals: [.sigterm, .sigint], logger: runtime.logger)
            var failure: (any Error)?
            do {
                try await group.run()
            } catch {
                failure = error
            }
            // stdout is the command's own output (logs go to stderr): the summary of a finite
            // run, or of any run that lost events.
            let summary = worker.summary
            if settings.count > 0 || settings.replayPath != nil || summary.undelivered > 0 || failure != nil {
                print(summary)
            }
            if let failure { throw failure }
            if summary.undelivered > 0 {
                FileHandle.standardError.write(
                    Data("generator: \(summary.undelivered) events were not acknowledged\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
