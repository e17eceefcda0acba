// Producer and consumer throughput of the Kafka module against kcat, both talking to the
// same in-process development broker in the same run, with the same librdkafka settings.
import Foundation
import Kafka
import Logging

func runKafkaBenchmark(count: Int, size: Int) async throws -> [BenchResult] {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let cluster = try KafkaDevelopmentCluster(logger: logger)
    let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "bench")
    for topic in ["bench-kcat", "bench-module"] { try cluster.createTopic(topic, partitions: 6) }
    let values = (0..<1000).map { index in
        // Readings-like JSON, padded to `size`, one line each for kcat.
        let base = #"{"schema":1,"kind":"reading","id":"bench-\#(index)","device_id":"edge-\#(index % 50)","temperature":21.5}"#
        return Array((base + String(repeating: " ", count: max(0, size - base.utf8.count))).utf8)
    }
    // The settings KafkaProducerConfiguration uses by default, given to kcat as well.
    let producerProperties = ["compression.type=zstd", "enable.idempotence=true", "linger.ms=5",
                              "queue.buffering.max.messages=100000", "partitioner=murmur2_random"]

    // kcat producing from a file, keyed, one message per line.
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("alertron-bench-\(getpid()).txt")
    var lines = Data()
    for index in 0..<count {
        lines.append(contentsOf: Array("edge-\(index % 50):".utf8) + values[index % values.count] + [10])
    }
    try lines.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let kcatProduce = try timeProcess("/usr/bin/kcat", ["-P", "-b", cluster.bootstrapServers, "-t", "bench-kcat", "-K:", "-l", file.path]
                                      + producerProperties.flatMap { ["-X", $0] })

    // The Kafka module: batches of 1000, eight in flight, as the scorer pipelines them.
    var configuration = KafkaProducerConfiguration(kafka: kafka)
    configuration.queueMaxMessages = 100_000
    let producer = try KafkaProducer(configuration: configuration, logger: logger)
    let moduleProduce = try await measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let batchSize = 1000
            let batches = (count + batchSize - 1) / batchSize
            var next = 0
            func addBatch(_ number: Int) {
                group.addTask {
                    var batch = KafkaProducerBatch(capacity: batchSize)
                    for index in (number * batchSize)..<min(count, (number + 1) * batchSize) {
                        batch.append(topic: "bench-module", key: "edge-\(index % 50)", value: values[index % values.count])
                    }
                    _ = try await producer.send(batch)
                }
            }
            while next < min(8, batches) { addBatch(next); next += 1 }
            while try await group.next() != nil {
                if next < batches { addBatch(next); next += 1 }
            }
        }
    }
    await producer.shutdown()

    // Consumers: kcat's balanced (group) consumer vs KafkaConsumer, each reading `count`.
    let kcatConsume = try timeProcess("/usr/bin/kcat", ["-b", cluster.bootstrapServers, "-G", "bench-kcat-group", "-X", "auto.offset.reset=earliest",
                                                        "-c", String(count), "-q", "-f", "", "bench-kcat"])
    var consumerConfiguration = KafkaConsumerConfiguration(kafka: kafka, groupID: "bench-module-group", topics: ["bench-module"])
    consumerConfiguration.sessionTimeoutMilliseconds = 6000
    let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
    let moduleConsume = try await measure {
        var received = 0
        for await batch in consumer.batches {
            received += batch.count
            if received >= count { break }
        }
    }
    await consumer.close()

    let kcatProduceRate = Double(count) / kcatProduce
    let kcatConsumeRate = Double(count) / kcatConsume
    return [
        BenchResult(name: "kcat produce (baseline, process incl. startup)", perSecond: kcatProduceRate, note: "\(count) x \(size) B"),
        BenchResult(name: "KafkaProducer.send, 1000/batch, 8 in flight", perSecond: Double(count) / moduleProduce,
                    note: String(format: "%.2fx kcat", (Double(count) / moduleProduce) / kcatProduceRate)),
        BenchResult(name: "kcat -G consume (baseline, incl. group join)", perSecond: kcatConsumeRate, note: "\(count) messages"),
        BenchResult(name: "KafkaConsumer.batches (incl. group join)", perSecond: Double(count) / moduleConsume,
                    note: String(format: "%.2fx kcat", (Double(count) / moduleConsume) / kcatConsumeRate)),
    ]
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
        throw KafkaError(.consumer, "\(path) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
