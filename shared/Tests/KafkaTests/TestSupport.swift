// Helpers for tests that talk to a real Kafka-protocol listener: librdkafka's mock cluster,
// one per test, with unique topics, and waits bounded by deadlines instead of sleeps.
import Foundation
import Logging
import Testing
@_exported import AlertronTesting
@testable import Kafka

let testLogger: Logger = {
    var logger = Logger(label: "kafka-tests", factory: { label in StreamLogHandler.standardError(label: label) })
    logger.logLevel =
        ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

/// A fresh mock cluster with one topic of `partitions` partitions.
struct TestBroker {
    let cluster: KafkaDevelopmentCluster
    let topic: String

    init(partitions: Int = 6) throws {
        cluster = try KafkaDevelopmentCluster(logger: testLogger)
        topic = "test-\(UUID().uuidString.prefix(8).lowercased())"
        try cluster.createTopic(topic, partitions: partitions)
    }

    var kafka: KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "kafka-tests")
    }

    func producer(configure: (inout KafkaProducerConfiguration) -> Void = { _ in }) throws -> KafkaProducer {
        var configuration = KafkaProducerConfiguration(kafka: kafka)
        configure(&configuration)
        return try KafkaProducer(configuration: configuration, logger: testLogger)
    }

    func consumer(group: String) throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(kafka: kafka, groupID: group, topics: [topic])
        // One low session timeout for every member: the mock waits about this long after a
        // member leaves before it rebalances.
        configuration.sessionTimeoutMilliseconds = 6000
        configuration.commitIntervalMilliseconds = 200
        return try KafkaConsumer(configuration: configuration, logger: testLogger)
    }

    /// Produces `count` messages `"<prefix>-<i>"` keyed by `key(i)` and returns their reports.
    func produce(
        _ producer: KafkaProducer, count: Int, prefix: String = "m",
        key: (Int) -> String? = { "key-\($0 % 10)" }
    ) async throws -> [KafkaDeliveryReport] {
        var batch = KafkaProducerBatch(capacity: count)
        for index in 0..<count { batch.append(topic: topic, key: key(index), value: Array("\(prefix)-\(index)".utf8)) }
        return try await producer.send(batch)
    }
}

/// Reads from `consumer` until `count` messages arrived (or the deadline passes).
func consume(_ consumer: KafkaConsumer, count: Int, within seconds: Double = 20) async throws -> [KafkaConsumerMessage]
{
    try await withDeadline(seconds, "\(count) messages") {
        var received: [KafkaConsumerMessage] = []
        for await batch in consumer.batches {
            received.append(contentsOf: batch)
            if received.count >= count { break }
        }
        return received
    }
}

/// Everything `consumer` receives within `seconds`, for asserting that nothing arrives.
func drain(_ consumer: KafkaConsumer, for seconds: Double) async -> [KafkaConsumerMessage] {
    let collected = Locked<[KafkaConsumerMessage]>([])
    _ = try? await withDeadline(seconds, "drain") {
        for await batch in consumer.batches { collected.withLock { $0.append(contentsOf: batch) } }
        return true
    }
    return collected.withLock { $0 }
}

extension KafkaConsumerMessage {
    var text: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "<tombstone>" }
}
