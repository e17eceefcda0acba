// alertron-slack-standin: Slack's API contract on a local port, for `make run` and tests.
import ArgumentParser
import Foundation
import Logging
import SlackStandIn
import UnixSignals

@main
struct SlackStandInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alertron-slack-standin",
        abstract: "Serve a local stand-in for Slack (incoming webhooks, chat.postMessage, chat.update).",
        discussion: """
            Prints its base URL once listening. Point the notifier at it with \
            SLACK_WEBHOOK_URL=<base>/services/T0/B0/X, or SLACK_API_URL=<base>/api with any SLACK_BOT_TOKEN. \
            Control API: POST /_standin/script \
            [{"status":500},{"status":429,"retry_after":2},{"error":"channel_not_found","times":3}] \
            scripts the next answers; GET /_standin/requests lists what arrived; DELETE /_standin/requests forgets it.
            """)

    @Option(help: "Address to listen on; port 0 picks a free one.")
    var listen: String = "127.0.0.1:0"

    @Option(help: "Bot token the Web API requires; unset accepts any.")
    var token: String?

    @Option(
        name: .customLong("rate-limit-ms"),
        help: "Answer 429 to a second message in one channel within this many ms (0: off).")
    var rateLimitMilliseconds: Int = 0

    @Option(name: .customLong("url-file"), help: "Write the base URL to this file once listening.")
    var urlFile: String?

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen: expected host:port, got '\(listen)'")
        }
        var configuration = SlackStandIn.Configuration(token: token)
        if rateLimitMilliseconds > 0 { configuration.minimumInterval = .milliseconds(rateLimitMilliseconds) }
        let standIn = SlackStandIn(configuration: configuration)
        let urlFile = self.urlFile
        try await standIn.withServer(host: String(listen[..<colon]), port: port) { base in
            if let urlFile { try (base + "\n").write(toFile: urlFile, atomically: true, encoding: .utf8) }
            // One write(2), unbuffered, so a reader of the pipe gets the line at once.
            _ = Array((base + "\n").utf8).withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            // Runs until SIGTERM or SIGINT.
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        }
    }
}
