// The Kafka side of every package's tests: an in-process development cluster with the topics
// a test needs, a producer onto it, and a reader of what comes out.
import Foundation
import Kafka
@_exported import KafkaDevelopment
import Logging

/// A logger that stays quiet unless TEST_LOG_LEVEL asks otherwise (trace ... critical).
public func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel =
        ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}

/// A development cluster with `topics`, the client settings to reach it (6 s session timeout,
/// as the local profile runs), and a producer for what tests send.
public final class TestMesh: Sendable {
    public let cluster: KafkaDevelopmentCluster
    public let kafka: KafkaConfiguration
    public let producer: KafkaProducer
    private let logger: Logger

    public init(
        topics: [String], partitions: Int = 6, clientID: String = "tests", logger: Logger = testLogger("test-mesh")
    ) throws {
        cluster = try KafkaDevelopmentCluster(logger: logger)
        for topic in topics { try cluster.createTopic(topic, partitions: partitions) }
        kafka = KafkaConfiguration(
            bootstrapServers: cluster.bootstrapServers, clientID: clientID,
            properties: ["session.timeout.ms": "6000"])
        producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        self.logger = logger
    }

    /// Produces `messages` (key, value) to `topic` and waits for every acknowledgement.
    public func send(_ messages: [(key: String, value: [UInt8])], to topic: String) async throws {
        var batch = KafkaProducerBatch()
        for message in messages { batch.append(topic: topic, key: message.key, value: message.value) }
        _ = try await producer.send(batch)
    }

    /// Every message on `topic` until at least `count` arrived, then whatever else arrives
    /// within `settle` seconds (so a test sees extra messages too). A fresh group each call.
    public func read(
        _ topic: String, count: Int, settle: Double = 0, within seconds: Double = 30
    ) async throws
        -> [KafkaConsumerMessage]
    {
        try await readTopic(topic, kafka: kafka, count: count, settle: settle, within: seconds, logger: logger)
    }
}
