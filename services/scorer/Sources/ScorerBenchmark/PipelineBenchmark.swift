// `scorer-benchmark`: events/s through the whole service path (consume, decode, score or
// classify, produce, store) against a passthrough consumer->producer with the same batching,
// both on one in-process development broker in the same run. Results go in BENCHMARKS.md.
import ArgumentParser
import Events
import BenchmarkSupport
import Foundation
import Kafka
import KafkaDevelopment
import Logging
import Models
import Scorer
import ServiceLifecycle
import Synchronization
import Telemetry

@main
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorer-benchmark",
        abstract: "Measure the scoring pipeline's throughput against a passthrough (build with -c release).")

    @Option(help: "Events to push through each pipeline.") var readings = 300_000
    @Option(
        name: .customLong("log-fraction"),
        help: "Fraction of the events that are log lines (0...1); the rest are readings.")
    var logFraction = 0.0
    @Option(name: .customLong("batch-size"), help: "Messages per consumed batch, for both pipelines.") var batchSize =
        1000
    @Option(name: .customLong("batches-in-flight"), help: "Batches awaiting acknowledgement, for both pipelines.")
    var batchesInFlight = ScorerSettings().batchesInFlight
    @Option(
        help: """
            Devices the readings come from. Each learns its own normal over its first --warm-up (400) readings, \
            judged by the fleet model meanwhile: few devices measure the steady state, many the learning.
            """)
    var devices = 500
    @Flag(
        help: """
            Measure instead what devices' state costs in memory: --devices devices of a profile without \
            a model, --channels channels each, two readings each through BatchScorer (a device's state \
            is allocated whole at its first reading).
            """)
    var memory = false
    @Option(help: "With --memory: channels per device.") var channels = 8

    func validate() throws {
        guard (0...1).contains(logFraction) else { throw ValidationError("--log-fraction must be within 0...1") }
        guard devices >= 1 else { throw ValidationError("--devices must be at least 1") }
    }

    func run() async throws {
        if memory { return try measureMemory() }
        var logger = Logger(label: "scorer-benchmark")
        logger.logLevel = .error
        let cluster = try KafkaDevelopmentCluster(logger: logger)
        for topic in [
            Topic.readings, Topic.scored, Topic.anomalies, Topic.deadLetters(of: Topic.readings), Topic.scorerState,
            Topic.feedback, "passthrough",
        ] { try cluster.createTopic(topic, partitions: 6) }
        // KAFKA_* variables apply, as in the service (e.g. KAFKA_COMPRESSION_TYPE=lz4).
        var kafka = KafkaConfiguration.fromEnvironment(
            ProcessInfo.processInfo.environment, clientID: "scorer-benchmark")
        kafka.bootstrapServers = cluster.bootstrapServers
        kafka.properties["session.timeout.ms"] = "6000"

        // The input: readings from --devices devices, about 1% of them far off normal, and log
        // lines from 50 sources (about a third critical) mixed in at --log-fraction.
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        var batch = KafkaProducerBatch(capacity: 10_000)
        for start in stride(from: 0, to: readings, by: 10_000) {
            batch.removeAll()
            for index in start..<min(readings, start + 10_000) {
                let event = Self.event(index, logFraction: logFraction, devices: devices)
                batch.append(topic: Topic.readings, key: event.key, value: EventWriter.encode(event))
            }
            _ = try await producer.send(batch)
        }
        await producer.shutdown()
        let mix =
            (logFraction > 0 ? String(format: " (%.0f%% log lines)", logFraction * 100) : "")
            + ", \(devices) devices"
        Bench.say("loaded \(readings) events\(mix); RSS \(Bench.residentMegabytes()) MiB")

        let passthrough = try await measurePassthrough(kafka: kafka, logger: logger)
        let directory = FileManager.default.temporaryDirectory.path
        var settings = ScorerSettings()
        settings.modelPath = "\(directory)/benchmark-model-\(getpid()).json"
        settings.logModelPath = "\(directory)/benchmark-log-model-\(getpid()).json"
        try SensorProfile.trainDefault().write(to: settings.modelPath)
        try LogClassifier.train(Self.logLines(count: 3_000, seed: 1)).write(to: settings.logModelPath)
        defer {
            try? FileManager.default.removeItem(atPath: settings.modelPath)
            try? FileManager.default.removeItem(atPath: settings.logModelPath)
        }
        let (scoring, peak) = try await measureScorer(kafka: kafka, settings: settings, logger: logger)
        var inMemory = settings
        inMemory.stateInMemory = true
        let (scoringInMemory, _) = try await measureScorer(kafka: kafka, settings: inMemory, logger: logger)

        let computeOnly = try measureComputeOnly(settings: settings)
        let rate = { (seconds: Double) in Double(readings) / seconds }
        Bench.say(
            String(
                format:
                    """
                    pipeline.compute-only  %10.0f events/s  BatchScorer alone on one core: decode -> score -> \
                    encode, batches of %d, no Kafka%@
                    """,
                computeOnly, batchSize, mix))
        Bench.say(
            String(
                format:
                    "pipeline.passthrough   %10.0f events/s  consume -> produce -> store, batches of %d, %d in flight",
                rate(passthrough), batchSize, batchesInFlight))
        Bench.say(
            String(
                format:
                    """
                    pipeline.scorer        %10.0f events/s  %.2fx passthrough; consume -> decode -> score -> \
                    produce scored+anomalies -> store%@
                    """,
                rate(scoring), passthrough / scoring, mix))
        Bench.say(
            String(
                format:
                    """
                    pipeline.scorer-memory %10.0f events/s  %.2fx passthrough; the same with devices' state in \
                    memory only (no scorer.state records): the state topic costs %.0f%%
                    """,
                rate(scoringInMemory), passthrough / scoringInMemory, 100 * (1 - scoringInMemory / scoring)))
        Bench.say(
            """
            memory                 RSS \(Bench.residentMegabytes()) MiB after, peak \(peak) MiB (process incl. the \
            in-process broker)
            """
        )
    }

    /// Event `index` of the benchmark's stream.
    static func event(_ index: Int, logFraction: Double, devices: Int) -> InboundEvent {
        // Spread evenly: a log line wherever the running count of logs steps up.
        let isLog = Int(Double(index + 1) * logFraction) > Int(Double(index) * logFraction)
        if isLog {
            let line = logLines(count: 1, seed: index)[0]
            return .log(
                LogEvent(
                    id: EventID.generate(), ts: Timestamp.now(), source: "host-\(index % 50)", message: line.message))
        }
        let row = normalReadings[index % normalReadings.rows]
        let spike = index % 100 == 0
        return .reading(
            Reading(
                id: EventID.generate(), ts: Timestamp.now(), deviceID: "device-\(index % devices)",
                temperature: spike ? 80 : row[row.startIndex], pressure: row[row.startIndex + 1],
                vibration: spike ? 0.7 : row[row.startIndex + 2]))
    }

    private static let normalReadings = SensorProfile.normalReadings(count: 10_000, seed: 5)

    /// Log lines of a few routine and critical templates with varying values, about a third critical.
    static func logLines(count: Int, seed: Int) -> [LabeledLog] {
        (0..<count).map { offset in
            let n = seed &+ offset
            switch n % 9 {
            case 0:
                return LabeledLog(
                    message:
                        """
                        Out of memory: Killed process \(n % 30_000) (java) total-vm:\(n % 9_000_000)kB, \
                        anon-rss:\(n % 7_000_000)kB
                        """,
                    critical: true)
            case 1:
                return LabeledLog(
                    message:
                        """
                        EXT4-fs error (device sd\(n % 4)): ext4_journal_check_start: Detected aborted journal; \
                        remounting filesystem read-only
                        """,
                    critical: true)
            case 2:
                return LabeledLog(
                    message:
                        """
                        [\(n % 24):\(n % 60):07] ERROR replication to replica-\(n % 5) stopped: connection \
                        refused after \(n % 90) retries
                        """,
                    level: "ERROR", critical: true)
            case 3:
                return LabeledLog(
                    message:
                        """
                        10.0.\(n % 250).\(n % 200) - - \"GET /api/v1/devices/\(n % 5_000)/readings HTTP/1.1\" 200 \
                        \(n % 4_000) \"-\" \"curl/8.5\" rt=0.0\(n % 90)
                        """,
                    critical: false)
            case 4:
                return LabeledLog(
                    message: "pam_unix(sshd:session): session opened for user deploy\(n % 9) by (uid=0)",
                    critical: false)
            case 5:
                return LabeledLog(
                    message:
                        """
                        checkpoint complete: wrote \(n % 3_000) buffers (\(n % 100).\(n % 10)%); 0 WAL file(s) \
                        added, \(n % 3) removed
                        """,
                    level: "LOG", critical: false)
            case 6:
                return LabeledLog(
                    message: "Successfully assigned default/web-\(n % 999)-abcde to node-\(n % 12)", level: "Normal",
                    critical: false)
            case 7:
                return LabeledLog(
                    message:
                        """
                        [Consumer clientId=c-\(n % 40), groupId=billing] Revoke previously assigned partitions \
                        billing-\(n % 6)
                        """,
                    level: "INFO", critical: false)
            default:
                return LabeledLog(
                    message:
                        "GC pause (G1 Evacuation Pause) young \(n % 400)M->\(n % 200)M(1024M) \(n % 30).\(n % 1000)ms",
                    level: "INFO", critical: false)
            }
        }
    }

    /// Resident memory per device and per device-channel, with what a state record weighs.
    private func measureMemory() throws {
        let names = (0..<channels).map { "channel_\($0)" }
        let models = BatchScorer.Models(sensors: [:], log: try LogClassifier.train(Self.logLines(count: 300, seed: 1)))
        var scorer = BatchScorer(settings: ScorerSettings())
        var random = RandomSource(seed: 1)
        var recordBytes = 0
        var records = 0
        let before = Bench.residentMegabytes()
        let started = ContinuousClock.now
        for round in 0..<2 {
            for start in stride(from: 0, to: devices, by: 1000) {
                let messages = (start..<min(devices, start + 1000)).map { device in
                    let reading = Reading(
                        id: "d\(device)-r\(round)", ts: Timestamp.format(millisecondsSinceEpoch: Int64(round) * 60_000),
                        deviceID: "device-\(device)", profile: "bench",
                        channels: names.map { Reading.Channel($0, 10 + random.nextGaussian()) })
                    return KafkaConsumerMessage(
                        topic: Topic.readings, partition: Int32(device % 6), offset: Int64(round * devices + device),
                        key: ArraySlice("device-\(device)".utf8),
                        value: ArraySlice(EventWriter.encode(.reading(reading))))
                }
                var output = KafkaProducerBatch(capacity: 3000)
                _ = scorer.score(
                    KafkaConsumerBatch(messages: messages), models: models, scoredAt: Timestamp.now(), into: &output)
                for index in 0..<output.count where output.message(at: index).topic == Topic.scorerState {
                    recordBytes += output.message(at: index).value.count
                    records += 1
                }
            }
        }
        let grown = Double(Bench.residentMegabytes() - before) * 1_048_576
        Bench.say(
            String(
                format: """
                    memory.devices  %d devices x %d channels in %.1f s: RSS +%.0f MiB, %.0f bytes a device, \
                    %.0f bytes a device-channel; a scorer.state record %.0f bytes
                    """,
                devices, channels, Bench.seconds(ContinuousClock.now - started), grown / 1_048_576,
                grown / Double(devices), grown / Double(devices * channels),
                Double(recordBytes) / Double(max(records, 1))))
    }

    /// The scorer's work without Kafka: the same kind of messages, from memory, on one core.
    private func measureComputeOnly(settings: ScorerSettings) throws -> Double {
        let model = try IsolationForest.load(path: settings.modelPath)
        let models = BatchScorer.Models(
            sensors: [Reading.defaultProfile: model], log: try LogClassifier.load(path: settings.logModelPath))
        let messages = (0..<batchSize).map { index in
            let event = Self.event(index, logFraction: logFraction, devices: devices)
            return KafkaConsumerMessage(
                topic: Topic.readings, partition: 0, offset: Int64(index), key: ArraySlice(event.key.utf8),
                value: ArraySlice(EventWriter.encode(event)))
        }
        var batch = KafkaConsumerBatch(messages: messages)
        var settings = settings
        settings.batchSize = batchSize
        var scorer = BatchScorer(settings: settings)
        let rounds = max(1, readings / batchSize)
        let start = ContinuousClock.now
        for round in 0..<rounds {
            // Later offsets each round, as from a partition: a repeated offset is a redelivery.
            if round > 0 { for index in batch.messages.indices { batch.messages[index].offset += Int64(batchSize) } }
            var output = KafkaProducerBatch(capacity: batchSize * 2)
            _ = scorer.score(batch, models: models, scoredAt: Timestamp.now(), into: &output)
        }
        return Double(rounds * batchSize) / Bench.seconds(ContinuousClock.now - start)
    }

    private func consumerConfiguration(_ kafka: KafkaConfiguration, group: String) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(kafka: kafka, groupID: group, topics: [Topic.readings])
        configuration.maxBatchSize = batchSize
        configuration.sessionTimeoutMilliseconds = 6000
        return configuration
    }

    /// Copies every reading to another topic, unchanged, with the scorer's batching and
    /// at-least-once discipline. Timed from the first batch (group join excluded).
    private func measurePassthrough(kafka: KafkaConfiguration, logger: Logger) async throws -> Double {
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(kafka, group: "bench-passthrough"), logger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let copied = Atomic<Int>(0)
        let start = Mutex<ContinuousClock.Instant?>(nil)
        let total = readings
        try await runInOrderPipeline(
            depth: batchesInFlight,
            produce: { submit in
                var submitted = 0
                for await batch in consumer.batches {
                    start.withLock { $0 = $0 ?? .now }
                    var output = KafkaProducerBatch(capacity: batch.count)
                    for message in batch {
                        output.append(topic: "passthrough", key: message.key, value: message.value ?? [])
                    }
                    let delivery = Task { [output] in (try? await producer.send(output)) != nil }
                    guard await submit((batch, delivery)) else { return }
                    submitted += batch.count
                    if submitted >= total { return }
                }
            },
            settle: { (entry: (batch: KafkaConsumerBatch, delivery: Task<Bool, Never>)) in
                guard await entry.delivery.value else {
                    throw KafkaError(.deliveryFailed, "passthrough delivery failed")
                }
                try consumer.storeOffsets(for: entry.batch)
                copied.add(entry.batch.count, ordering: .relaxed)
                return true
            })
        let began = start.withLock { $0 } ?? .now
        let elapsed = Bench.seconds(ContinuousClock.now - began)
        await producer.shutdown()
        await consumer.close()
        return elapsed
    }

    /// The real ScoringWorker, timed from its first scored batch (group join excluded).
    private func measureScorer(
        kafka: KafkaConfiguration, settings: ScorerSettings, logger: Logger
    ) async throws -> (Double, Int) {
        var settings = settings
        settings.batchSize = batchSize
        settings.batchesInFlight = batchesInFlight
        // The scorer's metrics as a service records them, into a registry nobody reads.
        let metrics = ScorerMetrics(
            ServiceRuntime(settings: ServiceSettings(serviceName: "scorer-benchmark"), logger: logger).metrics)
        let models = ModelStore<IsolationForest>(
            path: settings.modelPath, reloadInterval: .zero, metrics: metrics, logger: logger)
        let logModels = ModelStore<LogClassifier>(
            path: settings.logModelPath, reloadInterval: .zero, metrics: metrics, logger: logger)
        // As the service runs: devices' state written to the state topic, restored on assignment.
        let partitionChanges = PartitionChanges(topic: Topic.readings)
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(
                kafka, group: settings.stateInMemory ? "bench-memory" : "bench-scorer"),
            logger: logger,
            onRebalance: partitionChanges.note)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let worker = ScoringWorker(
            consumer: consumer, producer: producer, models: models,
            profileModels: ProfileModels(directory: "", reloadInterval: .zero, metrics: metrics, logger: logger),
            logModels: logModels,
            settings: settings, metrics: metrics, logger: logger, partitionChanges: partitionChanges,
            stateReader: settings.stateInMemory
                ? nil : try KafkaChangelogReader(kafka: kafka, groupID: "bench-scorer.state", logger: logger))
        let running = Task { try await worker.run() }
        while worker.scoredCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let start = ContinuousClock.now
        let firstBatch = worker.scoredCount
        var peak = 0
        while worker.scoredCount < readings {
            peak = max(peak, Bench.residentMegabytes())
            try await Task.sleep(for: .milliseconds(5))
        }
        // The first batch was scored before the clock started: count only what came after.
        let elapsed = Bench.seconds(ContinuousClock.now - start) * Double(readings) / Double(readings - firstBatch)
        running.cancel()
        _ = await running.result
        await producer.shutdown()
        await consumer.close()
        return (elapsed, peak)
    }
}
