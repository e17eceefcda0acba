// The producer half of the C boundary: enqueueing batches, serving delivery reports, flushing.
import Crdkafka

extension RDKafkaClient {
    /// Enqueues every message of `batch`; message `i` carries the token `tokenBase | i`.
    /// Returns the indices that librdkafka refused, with the reason (queue full, too large...).
    func produce(_ batch: KafkaProducerBatch, tokenBase: UInt) -> [(index: Int, error: KafkaError)] {
        var refused: [(index: Int, error: KafkaError)] = []
        let copy = Int32(alertron_msg_flag_copy())
        var byTopic = [[Int]](repeating: [], count: batch.topics.count)
        for (index, entry) in batch.entries.enumerated() { byTopic[entry.topicIndex].append(index) }
        batch.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
            for (topicIndex, indices) in byTopic.enumerated() where !indices.isEmpty {
                guard let topic = topicHandle(batch.topics[topicIndex]) else {
                    let error = KafkaError(
                        .configuration, "topic name '\(batch.topics[topicIndex].prefix(100))' is not valid",
                        isRetriable: false)
                    refused.append(contentsOf: indices.map { ($0, error) })
                    continue
                }
                var ownPartitions = false
                var messages = indices.map { index -> rd_kafka_message_t in
                    let entry = batch.entries[index]
                    var message = rd_kafka_message_t()
                    message.partition = entry.partition
                    ownPartitions = ownPartitions || entry.partition >= 0
                    // A negative length is a tombstone: no value at all, which compaction deletes by.
                    if entry.valueLength >= 0 {
                        message.payload = base.map { $0 + entry.valueStart }
                        message.len = entry.valueLength
                    }
                    if entry.keyLength >= 0 {
                        message.key = base.map { $0 + entry.keyStart }
                        message.key_len = entry.keyLength
                    }
                    message._private = UnsafeMutableRawPointer(bitPattern: tokenBase | UInt(index))
                    return message
                }
                let flags = ownPartitions ? copy | Int32(alertron_msg_flag_partition()) : copy
                let enqueued = messages.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_produce_batch(
                        topic, alertron_partition_unassigned(), flags,
                        buffer.baseAddress, Int32(buffer.count))
                }
                if enqueued < messages.count {
                    for (position, message) in messages.enumerated() where message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                        refused.append((indices[position], Self.error(message.err, defaultCode: .deliveryFailed)))
                    }
                }
            }
        }
        return refused
    }

    /// Waits up to `timeoutMilliseconds` for producer events; returns delivery outcomes and
    /// reports errors to the callbacks. Call from one dedicated thread.
    func pollDeliveries(timeoutMilliseconds: Int32, into outcomes: inout [DeliveryOutcome]) {
        assertNotOnTaskThread("rd_kafka_queue_poll")
        guard let mainQueue, let event = rd_kafka_queue_poll(mainQueue, timeoutMilliseconds) else { return }
        defer { rd_kafka_event_destroy(event) }
        switch Int32(rd_kafka_event_type(event)) {
        case Int32(alertron_event_delivery_report()):
            while true {
                let count = rd_kafka_event_message_array(event, &deliveryScratch, deliveryScratch.count)
                if count == 0 { break }
                for message in deliveryScratch[0..<count] {
                    guard let message = message?.pointee else { continue }
                    let failed = message.err != RD_KAFKA_RESP_ERR_NO_ERROR
                    outcomes.append(
                        DeliveryOutcome(
                            token: UInt(bitPattern: message._private),
                            partition: message.partition,
                            offset: message.offset,
                            error: failed ? Self.error(message.err, defaultCode: .deliveryFailed) : nil))
                }
            }
        case Int32(alertron_event_error()):
            let fatal = rd_kafka_event_error_is_fatal(event) != 0
            let error =
                fatal
                ? (fatalError() ?? KafkaError(.fatal, Self.string(rd_kafka_event_error_string(event))))
                : KafkaError(
                    .deliveryFailed, Self.string(rd_kafka_event_error_string(event)),
                    librdkafkaCode: rd_kafka_event_error(event).rawValue)
            callbacks.onError(error, fatal)
        default:
            break
        }
    }

    /// Messages not yet acknowledged by the broker (queued, in flight, or reports not served).
    var outstandingMessages: Int { Int(rd_kafka_outq_len(handle)) }

    /// Blocks until every outstanding message is delivered or the timeout passes; true when
    /// everything was. Another thread must serve the delivery reports meanwhile.
    func flush(timeoutMilliseconds: Int32) -> Bool {
        assertNotOnTaskThread("rd_kafka_flush")
        return rd_kafka_flush(handle, timeoutMilliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Gives up on everything not yet acknowledged: each message gets a definite failed report
    /// (purged from the queue, or in flight), so no caller is left guessing.
    func purgeOutstanding() {
        _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
    }

    private func topicHandle(_ name: String) -> OpaquePointer? {
        topicHandles.withLock { handles in
            if let existing = handles[name] { return existing }
            // NULL for an invalid name (for example longer than 249 bytes); not cached.
            guard let created = rd_kafka_topic_new(handle, name, nil) else { return nil }
            handles[name] = created
            return created
        }
    }
}
