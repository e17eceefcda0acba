// `generator-benchmark`: readings/s of the real generating path (fleet -> encode -> KafkaSink,
// the GenerationWorker at --rate 0) against a baseline in the same run and on the same
// in-process development broker: the same producer settings, batching and batches in flight,
// sending the same readings encoded beforehand. The ratio is what generating costs while
// sending. Results go in BENCHMARKS.md.
import ArgumentParser
import CoreMetrics
import Events
import BenchmarkSupport
import Foundation
import Generator
import Kafka
import KafkaDevelopment
import Logging
import Synchronization
import Telemetry

@main
struct GeneratorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generator-benchmark",
        abstract:
            """
            Measure the generator's readings/s to Kafka against sending the same readings encoded beforehand \
            (build with -c release).
            """
    )

    @Option(help: "Readings per measurement.") var events = 1_000_000
    @Option(help: "Paired rounds (baseline, then generator); medians are reported.") var rounds = 3
    @Option(name: .customLong("batch-size"), help: "Readings per Kafka send, for both.") var batchSize =
        GeneratorSettings().batchSize
    @Option(name: .customLong("batches-in-flight"), help: "Sends awaiting acknowledgement, for both.")
    var batchesInFlight = GeneratorSettings().inFlightBatches

    /// The generator's metrics as the service records them, into nothing.
    private static let metrics = GeneratorMetrics(MetricHandles(factory: NOOPMetricsHandler.instance))

    func validate() throws {
        guard events > 0, rounds > 0, batchSize > 0, batchesInFlight > 0 else {
            throw ValidationError("every option must be positive")
        }
    }

    func run() async throws {
        var logger = Logger(label: "generator-benchmark")
        logger.logLevel = .error
        let cluster = try KafkaDevelopmentCluster(logger: logger)
        try cluster.createTopic(Topic.readings, partitions: 6)
        try cluster.createTopic("baseline", partitions: 6)
        // KAFKA_* variables apply, as in the service (e.g. KAFKA_COMPRESSION_TYPE=lz4).
        var kafka = KafkaConfiguration.fromEnvironment(
            ProcessInfo.processInfo.environment, clientID: "generator-benchmark")
        kafka.bootstrapServers = cluster.bootstrapServers

        Bench.say(
            """
            \(events) readings per measurement, batches of \(batchSize), \(batchesInFlight) in flight, \(rounds) \
            rounds; RSS \(Bench.residentMegabytes()) MiB
            """
        )
        let computeOnly = measureComputeOnly()
        Bench.say(
            String(
                format: "generate.compute-only  %10.0f readings/s  fleet -> JSON -> batch on one core, no Kafka",
                computeOnly))
        var baselines: [Double] = []
        var generators: [Double] = []
        var ratios: [Double] = []
        for round in 1...rounds {
            let baseline = try await measureBaseline(kafka: kafka, logger: logger)
            let generator = try await measureGenerator(kafka: kafka, logger: logger)
            baselines.append(baseline)
            generators.append(generator)
            ratios.append(generator / baseline)
            Bench.say(
                String(
                    format: "round %d: baseline %10.0f/s  generator %10.0f/s  ratio %.2fx", round, baseline, generator,
                    generator / baseline))
        }
        Bench.say(
            String(
                format:
                    """
                    generate.baseline      %10.0f readings/s  the same readings encoded beforehand -> \
                    KafkaProducer.send (median)
                    """,
                Bench.median(baselines)))
        Bench.say(
            String(
                format:
                    """
                    generate.kafka         %10.0f readings/s  %.2fx baseline (median of per-round ratios \
                    %.2f-%.2f); GenerationWorker -> KafkaSink
                    """,
                Bench.median(generators), Bench.median(ratios), ratios.min() ?? 0, ratios.max() ?? 0))
        Bench.say(
            "memory                 RSS \(Bench.residentMegabytes()) MiB after (process incl. the in-process broker)")
    }

    private var settings: GeneratorSettings {
        var settings = GeneratorSettings()
        settings.rate = 0
        settings.count = events
        settings.batchSize = batchSize
        settings.batchesInFlight = batchesInFlight
        settings.stream.runID = "bench"
        return settings
    }

    /// The same producer path with nothing left to generate: the very readings the generator
    /// sends, encoded into batches before the clock starts, sent with the worker's bound on
    /// batches in flight.
    private func measureBaseline(kafka: KafkaConfiguration, logger: Logger) async throws -> Double {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        var stream = EventStream(configuration: settings.stream)
        var encoder = BatchEncoder(format: .kafka(topic: "baseline"))
        var batches: [OutgoingBatch] = []
        var made = 0
        while made < events {
            var batch = encoder.makeBatch(capacity: batchSize)
            let now = Timestamp.now()
            for _ in 0..<min(batchSize, events - made) { encoder.append(try stream.next(wallClock: now)!, to: &batch) }
            made += batch.count
            batches.append(batch)
        }
        let sink = KafkaSink(producer: producer, topic: "baseline", logger: logger)
        let context = DeliveryContext(metrics: Self.metrics)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for batch in batches {
                if inFlight >= batchesInFlight {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask { _ = try await sink.deliver(batch, context: context) }
                inFlight += 1
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        await producer.shutdown()
        return Double(events) / GenerationSummary.seconds(elapsed)
    }

    /// The real GenerationWorker with a KafkaSink, from its start until every reading was
    /// acknowledged.
    private func measureGenerator(kafka: KafkaConfiguration, logger: Logger) async throws -> Double {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let worker = GenerationWorker(
            settings: settings, sink: KafkaSink(producer: producer, topic: Topic.readings, logger: logger),
            metrics: Self.metrics, logger: logger)
        let start = ContinuousClock.now
        // A finite run returns once every reading was acknowledged.
        try await worker.run()
        let finishedAt = ContinuousClock.now
        await producer.shutdown()
        guard worker.acknowledgedCount == events else {
            throw GeneratorError(
                .kafkaRejected, "only \(worker.acknowledgedCount) of \(events) readings were acknowledged")
        }
        return Double(events) / GenerationSummary.seconds(finishedAt - start)
    }

    /// Generating and encoding alone, as the worker does it, on one core.
    private func measureComputeOnly() -> Double {
        var stream = EventStream(configuration: settings.stream)
        var encoder = BatchEncoder(format: .kafka(topic: Topic.readings))
        let start = ContinuousClock.now
        var made = 0
        while made < events {
            var batch = encoder.makeBatch(capacity: batchSize)
            let now = Timestamp.now()
            for _ in 0..<min(batchSize, events - made) {
                encoder.append(try! stream.next(wallClock: now)!, to: &batch)
            }
            made += batch.count
        }
        return Double(made) / GenerationSummary.seconds(ContinuousClock.now - start)
    }
}
