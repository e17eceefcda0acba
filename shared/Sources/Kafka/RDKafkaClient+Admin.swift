// Cluster requests of the C boundary: metadata and topic creation. Both block up to their
// timeout; callers run them on their own queues.
import Crdkafka

extension RDKafkaClient {
    /// Fetches metadata: all topics, or only those this client already uses (cheap, for
    /// readiness checks on large clusters). Blocks up to the timeout.
    func metadata(allTopics: Bool, timeoutMilliseconds: Int32) throws -> KafkaClusterMetadata {
        assertNotOnTaskThread("rd_kafka_metadata")
        var pointer: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(handle, allTopics ? 1 : 0, nil, &pointer, timeoutMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata = pointer?.pointee else {
            throw Self.error(result, defaultCode: .metadata)
        }
        defer { rd_kafka_metadata_destroy(pointer) }
        let brokers = UnsafeBufferPointer(start: metadata.brokers, count: Int(metadata.broker_cnt)).map {
            KafkaClusterMetadata.Broker(id: $0.id, host: Self.string($0.host), port: Int($0.port))
        }
        var topics: [String: Int] = [:]
        for topic in UnsafeBufferPointer(start: metadata.topics, count: Int(metadata.topic_cnt))
        where topic.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            topics[Self.string(topic.topic)] = Int(topic.partition_cnt)
        }
        return KafkaClusterMetadata(brokers: brokers, topics: topics)
    }

    /// Creates topics through the admin API. Topics that already exist count as created.
    /// Blocks up to the timeout.
    func createTopics(_ specifications: [KafkaTopicSpecification], timeoutMilliseconds: Int32) throws {
        assertNotOnTaskThread("rd_kafka_CreateTopics")
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for specification in specifications {
            guard
                let topic = rd_kafka_NewTopic_new(
                    specification.name, Int32(specification.partitions),
                    Int32(specification.replicationFactor), &errorText, errorText.count)
            else {
                throw KafkaError(.topicCreation, "topic \(specification.name): \(Self.string(errorText))")
            }
            newTopics.append(topic)
        }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds &+ 1000) else {
            throw KafkaError(.timedOut, "CreateTopics got no answer within \(timeoutMilliseconds) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = Self.string(rd_kafka_event_error_string(event))
            if eventError == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || text.localizedLowercase.contains("not supported")
            {
                throw KafkaError(
                    .unsupported,
                    "the broker does not support CreateTopics (\(text)); create the topics on the broker itself "
                        + "(the development broker creates its topics at start: see alertron-devbroker --topic)",
                    librdkafkaCode: eventError.rawValue, isRetriable: false)
            }
            if eventError == RD_KAFKA_RESP_ERR__TIMED_OUT {
                // The development broker names no controller, so the request never leaves.
                throw KafkaError(
                    .timedOut,
                    "CreateTopics got no answer (\(text)); a broker without the admin API, such as the "
                        + """
                        development broker, needs its topics created on the broker itself (alertron-devbroker \
                        --topic)
                        """,
                    librdkafkaCode: eventError.rawValue)
            }
            throw KafkaError(.topicCreation, "CreateTopics failed: \(text)", librdkafkaCode: eventError.rawValue)
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(.topicCreation, "unexpected event in answer to CreateTopics")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        var failures: [String] = []
        for topicResult in UnsafeBufferPointer(start: results, count: count) {
            let code = rd_kafka_topic_result_error(topicResult)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                failures.append(
                    """
                    \(Self.string(rd_kafka_topic_result_name(topicResult))): \
                    \(Self.string(rd_kafka_topic_result_error_string(topicResult)))
                    """
                )
            }
        }
        if !failures.isEmpty {
            throw KafkaError(
                .topicCreation, "the broker refused: " + failures.joined(separator: "; "), isRetriable: false)
        }
    }
}
