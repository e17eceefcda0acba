// Producer and consumer throughput of the Kafka module against kcat, both talking to the
// same in-process development broker in the same run, with the same librdkafka settings.
// Rounds alternate kcat and the module on fresh topics; medians are reported, because a
// single run on a shared 2-core machine varies by up to 2x.
import Foundation
import Kafka
import KafkaDevelopment
import Logging

struct KafkaBenchmarkSettings {
    var count: Int
    var size: Int
    var inFlight: Int
    var queueMessages: Int
    var rounds: Int
}

private struct Round {
    var kcatProduce: Double, kcatProduceCPU: Double
    var moduleProduce: Double, moduleProduceCPU: Double
    var kcatConsume: Double, moduleConsume: Double
}

func runKafkaBenchmark(_ settings: KafkaBenchmarkSettings) async throws -> [BenchResult] {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let cluster = try KafkaDevelopmentCluster(logger: logger)
    let values = (0..<1000).map { index in
        // Readings-like JSON, padded to `size`, one line each for kcat.
        let base =
            #"{"schema":1,"kind":"reading","id":"bench-\#(index)","device_id":"edge-\#(index % 50)","#
            + #""temperature":21.5}"#
        return Array((base + String(repeating: " ", count: max(0, settings.size - base.utf8.count))).utf8)
    }
    let keys = (0..<50).map { "edge-\($0)" }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("alertron-bench-\(getpid()).txt")
    var lines = Data()
    for index in 0..<settings.count {
        lines.append(contentsOf: Array("\(keys[index % 50]):".utf8) + values[index % values.count] + [10])
    }
    try lines.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }

    var rounds: [Round] = []
    for round in 0..<settings.rounds {
        rounds.append(
            try await runRound(
                round, settings, cluster: cluster, file: file, keys: keys, values: values, logger: logger))
    }

    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    let count = Double(settings.count)
    let kcatProduce = median(rounds.map { count / $0.kcatProduce })
    let moduleProduce = median(rounds.map { count / $0.moduleProduce })
    let kcatConsume = median(rounds.map { count / $0.kcatConsume })
    let moduleConsume = median(rounds.map { count / $0.moduleConsume })
    let produceRatios = rounds.map { $0.kcatProduce / $0.moduleProduce }.sorted()
    let consumeRatios = rounds.map { $0.kcatConsume / $0.moduleConsume }.sorted()
    let spread = { (ratios: [Double]) in String(format: "rounds %.2f..%.2f", ratios.first!, ratios.last!) }
    return [
        BenchResult(
            name: "kafka.produce.kcat (baseline)", perSecond: kcatProduce,
            note: String(
                format: "%d x %d B, median of %d; %.2f us CPU/message incl. broker", settings.count, settings.size,
                settings.rounds, median(rounds.map { $0.kcatProduceCPU }) / count * 1e6)),
        BenchResult(
            name: "kafka.produce.module", perSecond: moduleProduce,
            note: String(
                format:
                    "%.2fx kcat (median ratio; %@); batches of 1000, %d in flight; %.2f us CPU/message incl. broker",
                median(rounds.map { $0.kcatProduce / $0.moduleProduce }), spread(produceRatios), settings.inFlight,
                median(rounds.map { $0.moduleProduceCPU }) / count * 1e6)),
        BenchResult(
            name: "kafka.consume.kcat (baseline)", perSecond: kcatConsume, note: "kcat -G, group join excluded"),
        BenchResult(
            name: "kafka.consume.module", perSecond: moduleConsume,
            note: String(
                format: "%.2fx kcat (median ratio; %@); KafkaConsumer.batches, group join excluded",
                median(rounds.map { $0.kcatConsume / $0.moduleConsume }), spread(consumeRatios))),
    ]
}

private func runRound(
    _ round: Int, _ settings: KafkaBenchmarkSettings, cluster: KafkaDevelopmentCluster, file: URL,
    keys: [String], values: [[UInt8]], logger: Logger
) async throws -> Round {
    // Fresh topics each round: the mock keeps a bounded amount per partition.
    let kcatTopic = "bench-kcat-\(round)"
    let moduleTopic = "bench-module-\(round)"
    for topic in [kcatTopic, moduleTopic] { try cluster.createTopic(topic, partitions: 6) }
    // The settings KafkaProducerConfiguration uses by default, given to kcat as well.
    let producerProperties = [
        "compression.type=zstd", "enable.idempotence=true", "linger.ms=5",
        "queue.buffering.max.messages=\(settings.queueMessages)", "partitioner=murmur2_random",
    ]

    let kcatCPUStart = cpuSeconds()
    let kcatProduce = try timeProcess(
        "/usr/bin/kcat",
        ["-P", "-b", cluster.bootstrapServers, "-t", kcatTopic, "-K:", "-l", file.path]
            + producerProperties.flatMap { ["-X", $0] })
    let kcatProduceCPU = cpuSeconds() - kcatCPUStart

    // The module: batches of 1000 with `inFlight` awaiting acknowledgement, so the local
    // queue stays about as full as kcat keeps it.
    let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "bench")
    var configuration = KafkaProducerConfiguration(kafka: kafka)
    configuration.queueMaxMessages = settings.queueMessages
    let producer = try KafkaProducer(configuration: configuration, logger: logger)
    let count = settings.count
    let moduleCPUStart = cpuSeconds()
    let moduleProduce = try await measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let batchSize = 1000
            let batches = (count + batchSize - 1) / batchSize
            var next = 0
            func addBatch(_ number: Int) {
                group.addTask {
                    var batch = KafkaProducerBatch(capacity: batchSize)
                    for index in (number * batchSize)..<min(count, (number + 1) * batchSize) {
                        batch.append(topic: moduleTopic, key: keys[index % 50], value: values[index % values.count])
                    }
                    _ = try await producer.send(batch)
                }
            }
            while next < min(settings.inFlight, batches) { addBatch(next); next += 1 }
            while try await group.next() != nil {
                if next < batches { addBatch(next); next += 1 }
            }
        }
    }
    let moduleProduceCPU = cpuSeconds() - moduleCPUStart
    await producer.shutdown()

    // Consumers, both in a consumer group. Joining a group takes seconds on the mock, which
    // would swamp the figure, so each is timed without it: kcat as (time to read `count`)
    // minus (time to read 1) in fresh groups, the module from its first batch on.
    let kcatArguments = { (group: String, messages: Int) in
        [
            "-b", cluster.bootstrapServers, "-G", group, "-X", "auto.offset.reset=earliest", "-c", String(messages),
            "-q", "-f", "", kcatTopic,
        ]
    }
    let kcatJoin = try timeProcess("/usr/bin/kcat", kcatArguments("join-\(round)", 1))
    let kcatConsume = try timeProcess("/usr/bin/kcat", kcatArguments("kcat-\(round)", count)) - kcatJoin
    var consumerConfiguration = KafkaConsumerConfiguration(
        kafka: kafka, groupID: "module-\(round)", topics: [moduleTopic])
    consumerConfiguration.sessionTimeoutMilliseconds = 6000
    let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
    var iterator = consumer.batches.makeAsyncIterator()
    guard let first = await iterator.next() else { throw KafkaError(.consumer, "no messages") }
    let moduleConsume = try await measure {
        var received = first.count
        while received < count, let batch = await iterator.next() { received += batch.count }
    }
    await consumer.close()
    return Round(
        kcatProduce: kcatProduce, kcatProduceCPU: kcatProduceCPU, moduleProduce: moduleProduce,
        moduleProduceCPU: moduleProduceCPU, kcatConsume: kcatConsume, moduleConsume: moduleConsume)
}

/// CPU time of this process and its finished children (kcat), in seconds.
private func cpuSeconds() -> Double {
    func seconds(_ who: Int32) -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(who), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
            usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
    return seconds(RUSAGE_SELF.rawValue) + seconds(RUSAGE_CHILDREN.rawValue)
}

private func measure(_ work: () async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await work()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Wall time of a child process; its exit status must be 0.
private func timeProcess(_ path: String, _ arguments: [String]) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    let start = ContinuousClock.now
    try process.run()
    process.waitUntilExit()
    let elapsed = ContinuousClock.now - start
    guard process.terminationStatus == 0 else {
        throw KafkaError(
            .consumer, "\(path) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
