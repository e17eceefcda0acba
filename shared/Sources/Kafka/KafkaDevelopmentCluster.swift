// librdkafka's in-process mock cluster, the embedded broker for development and tests.
// It speaks the Kafka protocol on 127.0.0.1 with random ports, keeps messages in memory
// (about 5 MiB or 100k batches per partition, oldest dropped beyond that) and lacks
// CreateTopics, so topics are created here, by the process that owns it.
import Logging

public final class KafkaDevelopmentCluster: Sendable {
    /// Kafka protocol request types, for fault injection.
    public enum RequestKind: Int16, Sendable, CaseIterable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
        case findCoordinator = 10, joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
        case initProducerID = 22
    }

    private let client: RDKafkaClient
    /// The brokers' own addresses (random ports on 127.0.0.1), comma-separated.
    public let bootstrapServers: String
    public let brokerCount: Int
    private let topicList = Locked<[String: Int]>([:])

    public init(brokers: Int = 1, logger: Logger) throws {
        let callbacks = RDKafkaClient.Callbacks(logger: logger, onRebalance: nil) { error, _ in
            logger.warning("development cluster error", metadata: ["error": "\(error)"])
        }
        // The mock cluster hangs off a client handle of its own that sends nothing.
        client = try RDKafkaClient(kind: .mockHost, properties: ["client.id": "alertron-devbroker"], callbacks: callbacks)
        bootstrapServers = try client.startMockCluster(brokers: brokers)
        brokerCount = brokers
    }

    /// Creates a topic with a fixed partition count (replication: all brokers, at most 3).
    public func createTopic(_ name: String, partitions: Int) throws {
        guard partitions > 0 else { throw KafkaError(.mockCluster, "topic \(name): partitions must be at least 1") }
        try client.mockCreateTopic(name, partitions: partitions, replicationFactor: min(brokerCount, 3))
        topicList.withLock { $0[name] = partitions }
    }

    /// Topics created through this cluster object, with their partition counts.
    public var topics: [String: Int] { topicList.withLock { $0 } }

    /// Takes a broker down (connections refused) or brings it back. Broker ids start at 1.
    public func setBroker(_ id: Int32, up: Bool) throws { try client.mockSetBroker(id, up: up) }

    /// Adds latency to every response of one broker.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int) throws {
        try client.mockSetRoundTripTime(broker: id, milliseconds: milliseconds)
    }

    /// The next `errors.count` requests of this kind fail with these Kafka error codes
    /// (for example 6 NOT_LEADER_FOR_PARTITION, 7 REQUEST_TIMED_OUT); empty clears them.
    public func injectRequestErrors(_ kind: RequestKind, errors: [Int32]) throws {
        try client.mockPushRequestErrors(apiKey: kind.rawValue, errors: errors)
    }
}
