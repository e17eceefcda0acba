// `scorer benchmark`: readings/s through the whole service path (consume, decode, score,
// produce, store) against a passthrough consumer->producer with the same batching, both on
// one in-process development broker in the same run. Results go in BENCHMARKS.md.
import ArgumentParser
import Events
import Foundation
import Kafka
import Logging
import Models
import ServiceLifecycle
import Synchronization

struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure the scoring pipeline's throughput against a passthrough (build with -c release).",
        shouldDisplay: false)

    @Option(help: "Readings to push through each pipeline.") var readings = 300_000
    @Option(name: .customLong("batch-size"), help: "Messages per consumed batch, for both pipelines.") var batchSize = 1000
    @Option(name: .customLong("batches-in-flight"), help: "Batches awaiting acknowledgement, for both pipelines.")
    var batchesInFlight = ScorerSettings(modelPath: "").batchesInFlight

    func run() async throws {
        var logger = Logger(label: "scorer-benchmark")
        logger.logLevel = .error
        let cluster = try KafkaDevelopmentCluster(logger: logger)
        for topic in ["readings", "scored", "anomalies", "readings.dlq", "passthrough"] { try cluster.createTopic(topic, partitions: 6) }
        // KAFKA_* variables apply, as in the service (e.g. KAFKA_COMPRESSION_TYPE=lz4).
        var kafka = KafkaConfiguration.fromEnvironment(ProcessInfo.processInfo.environment, clientID: "scorer-benchmark")
        kafka.bootstrapServers = cluster.bootstrapServers
        kafka.properties["session.timeout.ms"] = "6000"

        // The input: readings from 500 devices, about 1% of them far off normal.
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let normal = SensorProfile.normalReadings(count: 10_000, seed: 5)
        var batch = KafkaProducerBatch(capacity: 10_000)
        for start in stride(from: 0, to: readings, by: 10_000) {
            batch.removeAll()
            for index in start..<min(readings, start + 10_000) {
                let row = normal[index % normal.rows]
                let spike = index % 100 == 0
                let reading = Reading(id: EventID.generate(), ts: Timestamp.now(), deviceID: "device-\(index % 500)",
                                      temperature: spike ? 80 : row[row.startIndex], pressure: row[row.startIndex + 1],
                                      vibration: spike ? 0.7 : row[row.startIndex + 2])
                batch.append(topic: "readings", key: reading.deviceID, value: EventWriter.encode(.reading(reading)))
            }
            _ = try await producer.send(batch)
        }
        await producer.shutdown()
        say("loaded \(readings) readings; RSS \(Self.residentMegabytes()) MiB")

        let passthrough = try await measurePassthrough(kafka: kafka, logger: logger)
        let modelPath = FileManager.default.temporaryDirectory.appendingPathComponent("benchmark-model-\(getpid()).json").path
        try SensorProfile.trainDefault().write(to: modelPath)
        defer { try? FileManager.default.removeItem(atPath: modelPath) }
        let (scoring, peak) = try await measureScorer(kafka: kafka, modelPath: modelPath, logger: logger)

        let computeOnly = try measureComputeOnly(modelPath: modelPath)
        let rate = { (seconds: Double) in Double(readings) / seconds }
        say(String(format: "pipeline.compute-only  %10.0f readings/s  BatchScorer alone on one core: decode -> score -> encode, batches of %d, no Kafka",
                   computeOnly, batchSize))
        say(String(format: "pipeline.passthrough   %10.0f readings/s  consume -> produce -> store, batches of %d, %d in flight",
                     rate(passthrough), batchSize, batchesInFlight))
        say(String(format: "pipeline.scorer        %10.0f readings/s  %.2fx passthrough; consume -> decode -> score -> produce scored+anomalies -> store",
                     rate(scoring), passthrough / scoring))
        say("memory                 RSS \(Self.residentMegabytes()) MiB after, peak \(peak) MiB (process incl. the in-process broker)")
    }

    /// The scorer's work without Kafka: the same kind of messages, from memory, on one core.
    private func measureComputeOnly(modelPath: String) throws -> Double {
        let model = try IsolationForest.load(path: modelPath)
        guard case .success(let columns) = SensorFeature.columns(for: model) else { return 0 }
        let normal = SensorProfile.normalReadings(count: 1000, seed: 6)
        let messages = (0..<batchSize).map { index in
            let row = normal[index % normal.rows]
            let reading = Reading(id: EventID.generate(), ts: Timestamp.now(), deviceID: "device-\(index % 500)",
                                  temperature: row[row.startIndex], pressure: row[row.startIndex + 1], vibration: row[row.startIndex + 2])
            return KafkaConsumerMessage(topic: "readings", partition: 0, offset: Int64(index), key: ArraySlice(reading.deviceID.utf8),
                                        value: ArraySlice(EventWriter.encode(.reading(reading))))
        }
        let batch = KafkaConsumerBatch(messages: messages)
        var settings = ScorerSettings(modelPath: modelPath)
        settings.batchSize = batchSize
        var scorer = BatchScorer(settings: settings)
        let rounds = max(1, readings / batchSize)
        let start = ContinuousClock.now
        for _ in 0..<rounds {
            var output = KafkaProducerBatch(capacity: batchSize * 2)
            _ = scorer.score(batch, model: model, columns: columns, scoredAt: Timestamp.now(), into: &output)
        }
        return Double(rounds * batchSize) / seconds(ContinuousClock.now - start)
    }

    private func consumerConfiguration(_ kafka: KafkaConfiguration, group: String) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(kafka: kafka, groupID: group, topics: ["readings"])
        configuration.maxBatchSize = batchSize
        configuration.sessionTimeoutMilliseconds = 6000
        return configuration
    }

    /// Copies every reading to another topic, unchanged, with the scorer's batching and
    /// at-least-once discipline. Timed from the first batch (group join excluded).
    private func measurePassthrough(kafka: KafkaConfiguration, logger: Logger) async throws -> Double {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(kafka, group: "bench-passthrough"), logger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let copied = Atomic<Int>(0)
        let start = Mutex<ContinuousClock.Instant?>(nil)
        let total = readings
        try await runInOrderPipeline(depth: batchesInFlight, produce: { submit in
            var submitted = 0
            for await batch in consumer.batches {
                start.withLock { $0 = $0 ?? .now }
                var output = KafkaProducerBatch(capacity: batch.count)
                for message in batch { output.append(topic: "passthrough", key: message.key, value: message.value ?? []) }
                let delivery = Task { [output] in (try? await producer.send(output)) != nil }
                guard await submit((batch, delivery)) else { return }
                submitted += batch.count
                if submitted >= total { return }
            }
        }, settle: { (entry: (batch: KafkaConsumerBatch, delivery: Task<Bool, Never>)) in
            guard await entry.delivery.value else { throw KafkaError(.deliveryFailed, "passthrough delivery failed") }
            try consumer.storeOffsets(for: entry.batch)
            copied.add(entry.batch.count, ordering: .relaxed)
            return true
        })
        let began = start.withLock { $0 } ?? .now
        let elapsed = seconds(ContinuousClock.now - began)
        await producer.shutdown()
        await consumer.close()
        return elapsed
    }

    /// The real ScoringWorker, timed from its first scored batch (group join excluded).
    private func measureScorer(kafka: KafkaConfiguration, modelPath: String, logger: Logger) async throws -> (Double, Int) {
        var settings = ScorerSettings(modelPath: modelPath)
        settings.batchSize = batchSize
        settings.batchesInFlight = batchesInFlight
        let models = ModelStore(path: modelPath, reloadInterval: .zero, logger: logger)
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(kafka, group: "bench-scorer"), logger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let worker = ScoringWorker(consumer: consumer, producer: producer, models: models, settings: settings, logger: logger)
        let running = Task { try await worker.run() }
        while worker.scoredCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let start = ContinuousClock.now
        let firstBatch = worker.scoredCount
        var peak = 0
        while worker.scoredCount < readings {
            peak = max(peak, Self.residentMegabytes())
            try await Task.sleep(for: .milliseconds(5))
        }
        // The first batch was scored before the clock started: count only what came after.
        let elapsed = seconds(ContinuousClock.now - start) * Double(readings) / Double(readings - firstBatch)
        running.cancel()
        _ = await running.result
        await producer.shutdown()
        await consumer.close()
        return (elapsed, peak)
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func residentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kilobytes / 1024
    }
}

/// Writes a line to stdout at once (print buffers when stdout is a pipe).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
