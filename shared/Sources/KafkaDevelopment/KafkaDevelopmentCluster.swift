// librdkafka's in-process mock cluster, the embedded broker for development and tests.
// It speaks the Kafka protocol on 127.0.0.1 with random ports, keeps messages in memory
// (about 5 MiB or 100k batches per partition, oldest dropped beyond that) and lacks
// CreateTopics, so topics are created here, by the process that owns it. It reaches the
// client through `package` access and stays out of the production Kafka library.
import Crdkafka
import Kafka
import Logging

public final class KafkaDevelopmentCluster: Sendable {
    /// Kafka protocol request types, for fault injection.
    public enum RequestKind: Int16, Sendable, CaseIterable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
        case findCoordinator = 10, joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
        case initProducerID = 22
    }

    private let client: RDKafkaClient
    // nonisolated(unsafe): librdkafka's mock API is thread-safe; the pointer never changes and
    // is destroyed by the client's teardown, before the handle it hangs off.
    nonisolated(unsafe) private let mock: OpaquePointer
    /// The brokers' own addresses (random ports on 127.0.0.1), comma-separated.
    public let bootstrapServers: String
    public let brokerCount: Int
    private let topicList = Locked<[String: Int]>([:])

    public init(brokers: Int = 1, logger: Logger) throws {
        let callbacks = RDKafkaClient.Callbacks(logger: logger, onRebalance: nil) { error, _ in
            logger.warning("development cluster error", metadata: ["error": "\(error)"])
        }
        // The mock cluster hangs off a client handle of its own that sends nothing.
        client = try RDKafkaClient(
            kind: .mockHost, properties: ["client.id": "alertron-devbroker"], callbacks: callbacks)
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(.mockCluster, "librdkafka could not start its mock cluster")
        }
        nonisolated(unsafe) let owned = cluster
        client.destroyFirst = { rd_kafka_mock_cluster_destroy(owned) }
        mock = cluster
        bootstrapServers = RDKafkaClient.string(rd_kafka_mock_cluster_bootstraps(cluster))
        brokerCount = brokers
    }

    /// Creates a topic with a fixed partition count (replication: all brokers, at most 3).
    public func createTopic(_ name: String, partitions: Int) throws {
        guard partitions > 0 else { throw KafkaError(.mockCluster, "topic \(name): partitions must be at least 1") }
        try check(
            rd_kafka_mock_topic_create(mock, name, Int32(partitions), Int32(min(brokerCount, 3))),
            "create topic \(name)")
        topicList.withLock { $0[name] = partitions }
    }

    /// Topics created through this cluster object, with their partition counts.
    public var topics: [String: Int] { topicList.withLock { $0 } }

    /// Takes a broker down (connections refused) or brings it back. Broker ids start at 1.
    public func setBroker(_ id: Int32, up: Bool) throws {
        try check(
            up ? rd_kafka_mock_broker_set_up(mock, id) : rd_kafka_mock_broker_set_down(mock, id),
            "set broker \(id) \(up ? "up" : "down")")
    }

    /// Adds latency to every response of one broker.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int) throws {
        try check(rd_kafka_mock_broker_set_rtt(mock, id, Int32(milliseconds)), "set broker \(id) rtt")
    }

    /// The next `errors.count` requests of this kind fail with these Kafka error codes
    /// (for example 6 NOT_LEADER_FOR_PARTITION, 7 REQUEST_TIMED_OUT); empty clears them.
    public func injectRequestErrors(_ kind: RequestKind, errors: [Int32]) throws {
        if errors.isEmpty {
            rd_kafka_mock_clear_request_errors(mock, kind.rawValue)
            return
        }
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(mock, kind.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    private func check(_ result: rd_kafka_resp_err_t, _ action: String) throws {
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(
                .mockCluster, "\(action): \(RDKafkaClient.string(rd_kafka_err2str(result)))",
                librdkafkaCode: result.rawValue)
        }
    }
}
