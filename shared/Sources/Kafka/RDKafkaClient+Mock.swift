// librdkafka's mock cluster, reached only through KafkaDevelopmentCluster.
import Crdkafka

extension RDKafkaClient {
    /// Starts librdkafka's in-process mock cluster on this (producer) handle.
    func startMockCluster(brokers: Int) throws -> String {
        guard let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            throw KafkaError(.mockCluster, "librdkafka could not start its mock cluster")
        }
        mockCluster = cluster
        return Self.string(rd_kafka_mock_cluster_bootstraps(cluster))
    }

    func mockCreateTopic(_ name: String, partitions: Int, replicationFactor: Int) throws {
        try checkMock(rd_kafka_mock_topic_create(requireMock(), name, Int32(partitions), Int32(replicationFactor)),
                      "create topic \(name)")
    }

    func mockSetBroker(_ id: Int32, up: Bool) throws {
        let cluster = try requireMock()
        try checkMock(up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id),
                      "set broker \(id) \(up ? "up" : "down")")
    }

    func mockSetRoundTripTime(broker id: Int32, milliseconds: Int) throws {
        try checkMock(rd_kafka_mock_broker_set_rtt(requireMock(), id, Int32(milliseconds)), "set broker \(id) rtt")
    }

    /// Makes the next `errors.count` requests of `apiKey` (0 Produce, 1 Fetch, ...) fail with
    /// these Kafka error codes, in order. An empty list clears what is queued.
    func mockPushRequestErrors(apiKey: Int16, errors: [Int32]) throws {
        let cluster = try requireMock()
        if errors.isEmpty {
            rd_kafka_mock_clear_request_errors(cluster, apiKey)
            return
        }
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey, buffer.count, buffer.baseAddress)
        }
    }

    private func requireMock() throws -> OpaquePointer {
        guard let mockCluster else { throw KafkaError(.mockCluster, "no mock cluster was started on this client") }
        return mockCluster
    }

    private func checkMock(_ result: rd_kafka_resp_err_t, _ action: String) throws {
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.mockCluster, "\(action): \(Self.string(rd_kafka_err2str(result)))", librdkafkaCode: result.rawValue)
        }
    }
}
