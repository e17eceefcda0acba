// Reads what a compacted changelog topic holds for one partition: the latest value of every
// key, as Kafka Streams restores a state store. Outside any consumer group: it assigns the
// partition itself, reads from the first offset to the last one as of the call, and commits
// nothing, so restoring never disturbs the group whose partitions the state belongs to.
import Dispatch
import Logging

public final class KafkaChangelogReader: Sendable {
    private let client: RDKafkaClient
    /// Reads run here, one at a time, never on Swift's cooperative pool.
    private let queue = DispatchQueue(label: "alertron.kafka.changelog")

    /// `groupID` only names the reader to the broker (librdkafka's consumer queue needs a group);
    /// the reader never joins it or commits.
    public init(kafka: KafkaConfiguration, groupID: String, logger: Logger) throws {
        let callbacks = RDKafkaClient.Callbacks(logger: logger, onRebalance: nil) { error, isFatal in
            KafkaMetrics.errors.increment()
            logger.log(
                level: isFatal ? .critical : .warning, "kafka changelog reader error", metadata: ["error": "\(error)"])
        }
        let properties = kafka.librdkafkaProperties(defaults: [
            "group.id": groupID,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "true",
            "auto.offset.reset": "earliest",
        ])
        client = try RDKafkaClient(
            kind: .consumer, properties: properties, lenient: kafka.environmentPropertyNames, callbacks: callbacks)
    }

    /// The latest value of every key in `partition` of `topic` (a tombstone removes its key).
    /// Throws when the topic or partition does not exist, or the broker does not answer in time.
    public func latest(
        topic: String, partition: Int32, timeout: Duration = .seconds(30)
    ) async throws -> [[UInt8]: [UInt8]] {
        let client = self.client
        let milliseconds = timeout.milliseconds
        return try await queue.run {
            var latest: [[UInt8]: [UInt8]] = [:]
            try client.readPartition(topic, partition: partition, timeoutMilliseconds: milliseconds) { key, value in
                guard let key else { return }
                latest[Array(key)] = value.map { Array($0) }
            }
            return latest
        }
    }
}
