// The consumer half of the C boundary: subscribing, polling batches, storing and committing
// offsets, leaving the group.
import Crdkafka

extension RDKafkaClient {
    func subscribe(_ topics: [String]) throws {
        let list = TopicPartitionList(capacity: topics.count)
        for topic in topics { list.add(topic, partition: alertron_partition_unassigned()) }
        let result = rd_kafka_subscribe(handle, list.pointer)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw Self.error(result, defaultCode: .consumer)
        }
    }

    /// Polls up to `capacity` messages, copying every key and value into one buffer.
    /// Per-message errors (not messages) are reported to the error callback and skipped.
    func consumeBatch(capacity: Int, timeoutMilliseconds: Int32) -> KafkaConsumerBatch {
        assertNotOnTaskThread("rd_kafka_consume_queue")
        guard let queue = consumerQueue else { return KafkaConsumerBatch(messages: []) }
        // Wait (up to the timeout) for the first message only, then take what is already
        // queued without waiting: consume_batch_queue alone waits until the batch is full or
        // the timeout passes, which holds a trickle of messages back for the whole timeout.
        guard let first = rd_kafka_consume_queue(queue, timeoutMilliseconds) else {
            return KafkaConsumerBatch(messages: [])
        }
        var pointers = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: capacity)
        pointers[0] = first
        let received =
            capacity > 1
            ? 1
                + max(
                    0,
                    pointers.withUnsafeMutableBufferPointer { buffer in
                        rd_kafka_consume_batch_queue(queue, 0, buffer.baseAddress! + 1, capacity - 1)
                    })
            : 1
        let polled = pointers[0..<received].compactMap { $0 }
        defer { polled.forEach { rd_kafka_message_destroy($0) } }

        var totalBytes = 0
        for message in polled where message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            totalBytes += message.pointee.len + message.pointee.key_len
        }
        var storage = [UInt8]()
        storage.reserveCapacity(totalBytes)
        var spans: [(key: Range<Int>?, value: Range<Int>?)] = []
        spans.reserveCapacity(polled.count)
        for message in polled {
            let m = message.pointee
            guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    var error = Self.error(m.err, defaultCode: .consumer)
                    if let detail = rd_kafka_message_errstr(message) { error.message += ": " + Self.string(detail) }
                    callbacks.onError(error, m.err == RD_KAFKA_RESP_ERR__FATAL)
                }
                spans.append((nil, nil))
                continue
            }
            spans.append((Self.append(m.key, m.key_len, to: &storage), Self.append(m.payload, m.len, to: &storage)))
        }

        var messages: [KafkaConsumerMessage] = []
        messages.reserveCapacity(polled.count)
        var lastTopicHandle: OpaquePointer?
        var lastTopicName = ""
        for (message, span) in zip(polled, spans) where message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            let m = message.pointee
            if m.rkt != lastTopicHandle {
                lastTopicHandle = m.rkt
                lastTopicName = Self.string(rd_kafka_topic_name(m.rkt))
            }
            var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &timestampType)
            messages.append(
                KafkaConsumerMessage(
                    topic: lastTopicName,
                    partition: m.partition,
                    offset: m.offset,
                    key: span.key.map { storage[$0] },
                    value: span.value.map { storage[$0] },
                    timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp))
        }
        return KafkaConsumerBatch(messages: messages)
    }

    /// Stores offsets for the background commit. Throws for partitions no longer assigned
    /// (a rebalance took them; their new owner re-reads from the last commit).
    func storeOffsets(_ offsets: [KafkaTopicPartition: Int64]) throws {
        guard !offsets.isEmpty else { return }
        let list = TopicPartitionList(capacity: offsets.count)
        for (topicPartition, offset) in offsets {
            list.add(topicPartition.topic, partition: topicPartition.partition, offset: offset)
        }
        let result = rd_kafka_offsets_store(handle, list.pointer)
        let failed = list.withElements { elements in
            elements.filter { $0.err != RD_KAFKA_RESP_ERR_NO_ERROR }.map {
                (name: "\(Self.string($0.topic))[\($0.partition)]", code: $0.err)
            }
        }
        if result != RD_KAFKA_RESP_ERR_NO_ERROR || !failed.isEmpty {
            let names = failed.map(\.name).joined(separator: ", ")
            let code = failed.first?.code ?? result
            throw KafkaError(
                .offsets,
                """
                offsets not stored for \(names.isEmpty ? "some partitions" : names): \
                \(Self.string(rd_kafka_err2str(code)))
                """,
                librdkafkaCode: code.rawValue, isRetriable: false)
        }
    }

    /// Commits stored offsets synchronously. "Nothing to commit" is success.
    func commitStoredOffsets() throws {
        assertNotOnTaskThread("rd_kafka_commit")
        let result = rd_kafka_commit(handle, nil, 0)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR && result != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw Self.error(result, defaultCode: .offsets)
        }
    }

    /// Commits stored offsets and leaves the group. Blocks; serves the final revocation.
    func closeConsumer() -> KafkaError? {
        assertNotOnTaskThread("rd_kafka_consumer_close")
        // The consumer queue reference must go before close.
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        consumerQueue = nil
        let result = rd_kafka_consumer_close(handle)
        return result == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : Self.error(result, defaultCode: .consumer)
    }

    /// Reads `partition` of `topic` from its first to its last message as of the call, handing
    /// each (offset, key, value) to `body`; for a member that is not in a group (the consumer
    /// needs `enable.partition.eof`). Throws when the broker does not answer within `timeout`.
    func readPartition(
        _ topic: String, partition: Int32, timeoutMilliseconds: Int32,
        _ body: (_ key: UnsafeRawBufferPointer?, _ value: UnsafeRawBufferPointer?) -> Void
    ) throws {
        assertNotOnTaskThread("rd_kafka_query_watermark_offsets")
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
        var (low, high) = (Int64(0), Int64(0))
        let watermarks = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, timeoutMilliseconds)
        guard watermarks == RD_KAFKA_RESP_ERR_NO_ERROR else { throw Self.error(watermarks, defaultCode: .consumer) }
        guard high > low, let queue = consumerQueue else { return }
        let list = TopicPartitionList(capacity: 1)
        list.add(topic, partition: partition, offset: low)
        let assigned = rd_kafka_assign(handle, list.pointer)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else { throw Self.error(assigned, defaultCode: .consumer) }
        defer { _ = rd_kafka_assign(handle, nil) }
        while ContinuousClock.now < deadline {
            guard let message = rd_kafka_consume_queue(queue, 100) else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
            guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw Self.error(m.err, defaultCode: .consumer) }
            body(
                m.key.map { UnsafeRawBufferPointer(start: $0, count: m.key_len) },
                m.payload.map { UnsafeRawBufferPointer(start: $0, count: m.len) })
            // The last message as of the call: later ones were written after it began.
            if m.offset >= high - 1 { return }
        }
        throw KafkaError(
            .timedOut, "reading \(topic)[\(partition)] to offset \(high) took longer than \(timeoutMilliseconds) ms",
            isRetriable: true)
    }

    /// Partitions currently assigned to this member.
    func assignment() -> [KafkaTopicPartition] {
        currentAssignment()?.partitions ?? []
    }

    private func currentAssignment() -> TopicPartitionList? {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return nil }
        return TopicPartitionList(taking: list)
    }

    /// Messages behind the high watermark, per topic, over the assigned partitions. Uses
    /// cached watermarks from fetch responses: cheap, never blocks on the network.
    func lagByTopic() -> [String: Int64] {
        guard let list = currentAssignment() else { return [:] }
        _ = rd_kafka_position(handle, list.pointer)
        var lag: [String: Int64] = [:]
        list.withElements { elements in
            for element in elements {
                var low: Int64 = 0
                var high: Int64 = 0
                let topic = Self.string(element.topic)
                lag[topic, default: 0] += 0
                // Before the first fetch the position (and the cached high watermark) are unknown:
                // such a partition adds nothing rather than a made-up number.
                guard element.offset >= 0,
                    rd_kafka_get_watermark_offsets(handle, element.topic, element.partition, &low, &high)
                        == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0
                else { continue }
                lag[topic, default: 0] += max(0, high - element.offset)
            }
        }
        return lag
    }

    private static func append(
        _ pointer: UnsafeMutableRawPointer?, _ length: Int, to storage: inout [UInt8]
    ) -> Range<Int>? {
        guard let pointer else { return nil }
        let start = storage.count
        storage.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
        return start..<storage.count
    }
}

/// A topic-partition list this code owns: librdkafka's copy is destroyed with the wrapper, so
/// no path (an early return, a throw) can leak it or free it twice. Lists librdkafka lends to
/// a callback are read in place instead (`RDKafkaClient.partitions`).
final class TopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(capacity: Int) { pointer = rd_kafka_topic_partition_list_new(Int32(capacity)) }

    /// Takes ownership of a list librdkafka handed over (for example from `rd_kafka_assignment`).
    init(taking pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) { self.pointer = pointer }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    func add(_ topic: String, partition: Int32, offset: Int64? = nil) {
        let element = rd_kafka_topic_partition_list_add(pointer, topic, partition)
        if let offset { element?.pointee.offset = offset }
    }

    /// The elements, valid inside `body` only: they (and their topic names) are the list's memory.
    func withElements<Result>(
        _ body: (UnsafeBufferPointer<rd_kafka_topic_partition_t>) throws -> Result
    ) rethrows -> Result {
        try withExtendedLifetime(self) {
            try body(UnsafeBufferPointer(start: pointer.pointee.elems, count: Int(pointer.pointee.cnt)))
        }
    }

    var partitions: [KafkaTopicPartition] { RDKafkaClient.partitions(pointer) }
}
