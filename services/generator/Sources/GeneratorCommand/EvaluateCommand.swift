// `generator evaluate`: reads scored events (from Kafka or a file) and reports how the
// detector's verdicts compare with the truth the generator put in each reading.
import ArgumentParser
import Events
import Foundation
import Generator
import Kafka
import Logging
import Models
import Synchronization

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            """
            Precision, recall and F1 of the scorer's verdicts against the generator's truth, overall and per \
            anomaly kind.
            """,
        discussion: """
            Reads scored events from --file (one JSON object per line) or from Kafka. Only readings \
            that carry truth count; log lines and readings without truth are skipped, and an event id \
            seen twice counts once. With --model (the sensor model the scorer served), each detection \
            is attributed to the out-of-range rule, the forest's threshold, or both.
            """)

    @Option(
        help: "A file of scored events, one JSON object per line (for example: kcat -C -t scored -e > scored.jsonl).")
    var file: String?

    @Option(
        name: [.customLong("brokers"), .customLong("kafka-brokers")],
        help: "Kafka bootstrap servers, when reading from Kafka. [env: KAFKA_BROKERS] (default: 127.0.0.1:9092)")
    var brokers: String?

    @Option(help: "Topic of scored events.") var topic = "scored"

    @Option(help: "Stop after this many distinct scored events; 0 reads until the topic is idle.") var count = 0

    @Option(
        name: .customLong("idle-timeout"),
        help:
            """
            Stop when no message arrived for this many seconds (the first message may take up to 30 s: joining a \
            group is slow).
            """
    )
    var idleTimeout = 5.0

    @Option(
        help: "The sensor model artifact the scorer served, to attribute detections to the range rule or the forest.")
    var model: String?

    @Option(name: .customLong("range-tolerance"), help: "The scorer's --range-tolerance, for the attribution.")
    var rangeTolerance = 0.5

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
        guard rangeTolerance >= 0 else { throw ValidationError("--range-tolerance must not be negative") }
    }

    func run() async throws {
        let attribution = try model.map {
            try Evaluation.Attribution(model: IsolationForest.load(path: $0), rangeTolerance: rangeTolerance)
        }
        var evaluation = Evaluation(attribution: attribution)
        if let file {
            try evaluation.add(file: file)
        } else {
            evaluation = try await evaluateKafka(evaluation)
        }
        guard evaluation.evaluated > 0 else {
            print(evaluation.report)
            throw GeneratorError(
                .scoredFile,
                "no scored reading carried truth: score a generator run (its readings carry truth) and evaluate that")
        }
        print(evaluation.report)
    }

    /// Reads the topic from the start in a fresh consumer group until --count distinct events
    /// or the idle timeout.
    private func evaluateKafka(_ initial: Evaluation) async throws -> Evaluation {
        var logger = Logger(label: "generator-evaluate")
        logger.logLevel = .warning
        var kafka = KafkaConfiguration.fromEnvironment(
            ProcessInfo.processInfo.environment, clientID: "generator-evaluate")
        if let brokers { kafka.bootstrapServers = brokers }
        var configuration = KafkaConsumerConfiguration(
            kafka: kafka, groupID: "generator-evaluate-\(UUID().uuidString)", topics: [topic])
        configuration.autoOffsetReset = "earliest"
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)

        struct Progress: Sendable {
            var evaluation: Evaluation
            var ids = Set<String>()
            var undecodable = 0
            var lastMessage: ContinuousClock.Instant?
            var done = false
        }
        // A class around the lock: the reading and watching tasks share it.
        final class Shared: Sendable {
            let state: Mutex<Progress>
            init(_ progress: Progress) { state = Mutex(progress) }
            func withLock<R: Sendable>(_ body: (inout sending Progress) -> sending R) -> R { state.withLock(body) }
        }
        let progress = Shared(Progress(evaluation: initial))
        let wanted = count
        let started = ContinuousClock.now
        let idle = Duration.milliseconds(Int64(idleTimeout * 1000))
        let firstWait = max(idle, .seconds(30))
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await batch in consumer.batches {
                    let finished = progress.withLock { state -> Bool in
                        for message in batch {
                            guard let value = message.value, let scored = try? EventCodec.decodeScored(value) else {
                                state.undecodable += 1
                                continue
                            }
                            state.ids.insert(scored.event.id)
                            state.evaluation.add(scored)
                        }
                        state.lastMessage = .now
                        return wanted > 0 && state.ids.count >= wanted
                    }
                    if finished { break }
                }
                progress.withLock { $0.done = true }
            }
            tasks.addTask {
                while !Task.isCancelled {
                    let (done, last) = progress.withLock { ($0.done, $0.lastMessage) }
                    if done { return }
                    if let last, ContinuousClock.now - last >= idle { return }
                    if last == nil, ContinuousClock.now - started >= firstWait { return }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            await tasks.next()
            tasks.cancelAll()
        }
        await consumer.close()
        let state = progress.withLock { $0 }
        if state.undecodable > 0 {
            FileHandle.standardError.write(
                Data("evaluate: \(state.undecodable) messages on \(topic) are not scored events\n".utf8))
        }
        if wanted > 0, state.ids.count < wanted {
            FileHandle.standardError.write(
                Data("evaluate: read \(state.ids.count) of \(wanted) events before the topic went idle\n".utf8))
        }
        return state.evaluation
    }
}
