// alertron-devbroker: a Kafka-protocol broker for development and tests, built on
// librdkafka's mock cluster. Runs in the foreground until SIGTERM or SIGINT.
import ArgumentParser
import Events
import Foundation
import Hummingbird
import Kafka
import KafkaDevelopment
import Logging
import ServiceLifecycle
import Telemetry

@main
struct DevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alertron-devbroker",
        abstract: "Run a local Kafka-protocol broker (librdkafka's mock cluster) with Alertron's topics.",
        discussion: """
            Prints the bootstrap address on stdout once clients can connect, and writes it to \
            --bootstrap-file. Messages live in memory only (about 5 MiB or 100k batches per \
            partition; the oldest are dropped beyond that) and are gone when it stops. The broker \
            has no CreateTopics: topics are created here, at start (--topic) or through the control API.
            Control API on --control: GET /v1/cluster, POST /v1/topics {"name","partitions"}, \
            POST /v1/brokers/{id}/down|up, POST /v1/brokers/{id}/rtt?ms=N, \
            POST /v1/request-errors {"request":"produce","errors":[6,6]}; plus /metrics, /healthz, /readyz.
            """)

    static let standardTopics = Topic.all

    @Option(help: "Fixed bootstrap address clients connect to; port 0 picks a free one. (default: 127.0.0.1:9092)")
    var listen: String = "127.0.0.1:9092"

    @Option(help: "Partitions of each standard topic (\(standardTopics.joined(separator: ", "))).")
    var partitions: Int = 6

    @Option(help: "Number of brokers in the mock cluster.")
    var brokers: Int = 1

    @Option(
        name: .customLong("topic"), help: ArgumentHelp("An extra topic, repeatable.", valueName: "name[:partitions]"))
    var extraTopics: [String] = []

    @Option(name: .customLong("bootstrap-file"), help: "Write the bootstrap address to this file once ready.")
    var bootstrapFile: String?

    @Option(help: "Address of the HTTP control API, /metrics, /healthz and /readyz. (default: 127.0.0.1:9095)")
    var control: String = "127.0.0.1:9095"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        let (listenHost, listenPort) = try Self.hostAndPort(listen, flag: "--listen")
        let (controlHost, controlPort) = try Self.hostAndPort(control, flag: "--control")
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: unknown level \(logLevel)")
        }
        guard partitions > 0, brokers > 0 else {
            throw ValidationError("--partitions and --brokers must be at least 1")
        }
        var topics = Self.standardTopics.map { ($0, partitions) }
        for spec in extraTopics { topics.append(try Self.topicSpec(spec, defaultPartitions: partitions)) }

        let runtime = ServiceRuntime.bootstrap(
            ServiceSettings(
                serviceName: "devbroker", host: controlHost, port: Int(controlPort),
                logLevel: level))
        let cluster = try KafkaDevelopmentCluster(brokers: brokers, logger: runtime.logger)
        for (name, count) in topics { try cluster.createTopic(name, partitions: count) }
        let firstBroker = try Self.hostAndPort(
            String(cluster.bootstrapServers.split(separator: ",")[0]), flag: "mock bootstrap")
        let forwarder = try TCPForwarder(host: listenHost, port: listenPort, target: (firstBroker.0, firstBroker.1))
        forwarder.start()
        let bootstrap = "\(listenHost):\(forwarder.boundPort)"

        runtime.readiness.add("broker") { _ = try cluster.topics }
        let router = runtime.makeRouter()
        ControlRoutes(cluster: cluster, bootstrap: bootstrap).register(on: router)
        let announcer = ReadyAnnouncer(
            bootstrap: bootstrap, file: bootstrapFile, logger: runtime.logger,
            topics: cluster.topics, brokers: cluster.bootstrapServers)
        let app = runtime.makeApplication(router: router, services: [announcer])
        defer { forwarder.stop() }
        try await app.runService()
    }

    static func hostAndPort(_ text: String, flag: String) throws -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw ValidationError("\(flag): expected host:port, got '\(text)'")
        }
        return (String(text[..<colon]), port)
    }

    static func topicSpec(_ text: String, defaultPartitions: Int) throws -> (String, Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty, parts.count <= 2 else {
            throw ValidationError("--topic: expected name[:partitions], got '\(text)'")
        }
        guard parts.count == 2 else { return (String(name), defaultPartitions) }
        guard let count = Int(parts[1]), count > 0 else {
            throw ValidationError("--topic \(text): partitions must be a positive integer")
        }
        return (String(name), count)
    }
}

/// Tells the world the broker is up once every piece is listening: stdout, then the file
/// (written to a temporary name and renamed, so a reader never sees half a line).
struct ReadyAnnouncer: Service {
    let bootstrap: String
    let file: String?
    let logger: Logger
    let topics: [String: Int]
    let brokers: String

    func run() async throws {
        if let file {
            let temporary = file + ".tmp"
            try (bootstrap + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
            _ = rename(temporary, file)
        }
        // One write(2) so a reader of the pipe gets the whole line at once, unbuffered.
        _ = Array((bootstrap + "\n").utf8).withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        logger.info(
            "development broker ready",
            metadata: [
                "bootstrap": "\(bootstrap)", "brokers": "\(brokers)",
                "topics": "\(topics.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))",
            ])
        try? await gracefulShutdown()
    }
}
