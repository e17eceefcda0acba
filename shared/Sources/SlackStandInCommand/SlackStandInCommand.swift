// alertron-slack-standin: Slack's API contract on a local port, for `make run` and tests; and
// `click`, which presses a button on a message the running stand-in holds, as a person would.
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import SlackStandIn
import UnixSignals

@main
struct SlackStandInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alertron-slack-standin",
        abstract: "A local stand-in for Slack: serve it (the default), or click a button on a message it holds.",
        subcommands: [Serve.self, Click.self], defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Serve a local stand-in for Slack (incoming webhooks, chat.postMessage, chat.update, chat.postEphemeral).",
        discussion: """
            Prints its base URL once listening. Point the notifier at it with \
            SLACK_WEBHOOK_URL=<base>/services/T0/B0/X, or SLACK_API_URL=<base>/api with any SLACK_BOT_TOKEN. \
            Control API: POST /_standin/script \
            [{"status":500},{"status":429,"retry_after":2},{"error":"channel_not_found","times":3}] \
            scripts the next answers; GET /_standin/requests lists what arrived; DELETE /_standin/requests forgets it; \
            POST /_standin/click {"action":"ack","value":"<incident>"} presses a button (see `click`).
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

    @Option(
        name: .customLong("signing-secret"),
        help: "The app's signing secret: button clicks are signed with it (env SLACK_SIGNING_SECRET).")
    var signingSecret: String? = ProcessInfo.processInfo.environment["SLACK_SIGNING_SECRET"]

    @Option(
        name: .customLong("messages-file"),
        help: "Append every accepted message (post, update, reply) to this JSONL file: a view of the channel.")
    var messagesFile: String?

    @Option(
        name: .customLong("interactions-url"),
        help: "The app's interactivity Request URL, where clicks go (the notifier's /slack/interactions).")
    var interactionsURL: String?

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen: expected host:port, got '\(listen)'")
        }
        var configuration = SlackStandIn.Configuration(token: token)
        if rateLimitMilliseconds > 0 { configuration.minimumInterval = .milliseconds(rateLimitMilliseconds) }
        configuration.signingSecret = signingSecret.flatMap { $0.isEmpty ? nil : $0 }
        configuration.messagesFile = messagesFile
        if let interactionsURL {
            guard let url = URL(string: interactionsURL), url.scheme?.hasPrefix("http") == true else {
                throw ValidationError("--interactions-url: '\(interactionsURL)' is not an http(s) URL")
            }
            configuration.interactionsURL = url
        }
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

struct Click: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Press a button on a message the running stand-in holds, as a Slack user would.",
        discussion: """
            The stand-in finds the newest message with that button, builds Slack's block_actions payload from it, \
            signs it with its signing secret and POSTs it to its interactions URL. Prints the app's answer.
            """)

    @Option(help: "Base URL of the running stand-in.")
    var standin: String = "http://127.0.0.1:8090"

    @Option(help: "The button's action_id: ack, silence_1h, silence_1d, not_anomaly or resolve.")
    var action: String

    @Option(
        help: "The incident whose button to press: its key (as the message's metadata says), or the button's value.")
    var incident: String

    @Option(help: "Slack user id of who clicks.")
    var user: String = SlackStandIn.defaultUser.id

    @Option(help: "valid, unsigned, forged or stale (negative tests).")
    var signing: String = "valid"

    func run() async throws {
        guard let url = URL(string: standin + "/_standin/click") else {
            throw ValidationError("--standin: '\(standin)' is not a URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: [
            "action": action, "value": incident, "user": user, "signing": signing,
        ])
        let (data, response) = try await URLSession.shared.data(for: request)
        let text = String(decoding: data, as: UTF8.self)
        print(text)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw ExitCode.failure }
    }
}
