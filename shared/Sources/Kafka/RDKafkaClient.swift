// The only type in Alertron that calls librdkafka: it owns an rd_kafka_t handle and turns
// every C result into Swift values and KafkaErrors. Blocking calls are made by its callers on
// their own dispatch queues or threads, never on Swift's cooperative pool: that pool has one
// thread per core, and one blocked thread stalls every task of the process (/readyz and
// /metrics included). Debug builds check it at each blocking call (`assertNotOnTaskThread`).
import Crdkafka
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A partition assignment change reported by the group coordinator.
struct RebalanceEvent: Sendable {
    enum Kind: String, Sendable { case assigned, revoked, failed }
    var kind: Kind
    var partitions: [KafkaTopicPartition]
    var reason: String?
}

/// One delivery report from the producer's event queue.
struct DeliveryOutcome {
    var token: UInt
    var partition: Int32
    var offset: Int64
    /// nil when the broker acknowledged the message.
    var error: KafkaError?
}

final class RDKafkaClient: @unchecked Sendable {
    // @unchecked: librdkafka's handle is thread-safe for the calls made here. Mutable Swift
    // state: topic handles behind their lock; `consumerQueue` is touched only from the
    // consumer's serial poll queue, `deliveryScratch` only from the delivery thread;
    // `mockCluster` is set once, right after init.

    /// `mockHost` is a handle that only carries the mock cluster: no events, never polled.
    enum Kind { case producer, consumer, mockHost }

    /// Receives what librdkafka reports from its own threads; kept alive by the client and
    /// handed to C as the configuration's opaque pointer.
    final class Callbacks: @unchecked Sendable {
        let logger: Logger
        let onRebalance: (@Sendable (RebalanceEvent) -> Void)?
        let onError: @Sendable (KafkaError, _ fatal: Bool) -> Void
        init(logger: Logger, onRebalance: (@Sendable (RebalanceEvent) -> Void)?,
             onError: @escaping @Sendable (KafkaError, Bool) -> Void) {
            self.logger = logger
            self.onRebalance = onRebalance
            self.onError = onError
        }
    }

    let kind: Kind
    private let handle: OpaquePointer
    private let callbacks: Callbacks
    private let topicHandles = Locked<[String: OpaquePointer]>([:])
    private var mockCluster: OpaquePointer?
    /// Held for the client's life instead of fetched (and allocated) on every poll.
    private let mainQueue: OpaquePointer?
    private var consumerQueue: OpaquePointer?
    /// Reused by `pollDeliveries`, which only the producer's delivery thread calls.
    private var deliveryScratch = [UnsafePointer<rd_kafka_message_t>?](repeating: nil, count: 1024)

    /// Creates a client. Producers receive delivery reports and errors as events on the main
    /// queue (see `pollDeliveries`); consumers get errors and rebalances through callbacks
    /// served by `consumeBatch`.
    /// `lenient` names properties that came from the environment: an unknown one is skipped
    /// with a warning (Kubernetes injects KAFKA_PORT and friends for a Service named kafka),
    /// while an unknown property given in code or by flag is an error.
    init(kind: Kind, properties: [String: String], lenient: Set<String> = [], callbacks: Callbacks) throws {
        self.kind = kind
        self.callbacks = callbacks
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(.clientCreation, "librdkafka could not allocate a configuration")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
            if result == RD_KAFKA_CONF_UNKNOWN && lenient.contains(name) {
                callbacks.logger.warning("ignoring an environment variable that is not a librdkafka property",
                                         metadata: ["property": "\(name)"])
                continue
            }
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                // librdkafka's text may quote the value; keep secrets out of the message.
                let detail = KafkaConfiguration.isSecret(name) ? "invalid value" : Self.string(errorText)
                throw KafkaError(.configuration, "property \(name): \(detail)")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_log_cb(conf, Self.logCallback)
        switch kind {
        case .producer:
            rd_kafka_conf_set_events(conf, Int32(alertron_event_delivery_report() | alertron_event_error()))
        case .consumer:
            rd_kafka_conf_set_error_cb(conf, Self.errorCallback)
            rd_kafka_conf_set_rebalance_cb(conf, Self.rebalanceCallback)
        case .mockHost:
            rd_kafka_conf_set_events(conf, 0)
        }
        let type = kind == .consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.clientCreation, Self.string(errorText))
        }
        self.handle = handle
        mainQueue = kind == .producer ? rd_kafka_queue_get_main(handle) : nil
        if kind == .consumer {
            // Route everything (rebalances, errors) through the consumer queue we poll.
            rd_kafka_poll_set_consumer(handle)
            consumerQueue = rd_kafka_queue_get_consumer(handle)
        }
    }

    deinit {
        // rd_kafka_destroy can block (an unclosed consumer closes itself), so it runs on a
        // thread of its own, never on whichever cooperative thread dropped the last reference.
        // The callbacks box travels along: librdkafka may call back until destroy returns.
        let resources = Teardown(handle: handle, callbacks: callbacks, mockCluster: mockCluster,
                                 queues: [mainQueue, consumerQueue].compactMap { $0 },
                                 topics: topicHandles.withLock { Array($0.values) })
        let thread = Thread { resources.destroy() }
        thread.name = "alertron-kafka-destroy"
        thread.start()
    }

    private struct Teardown: @unchecked Sendable {
        let handle: OpaquePointer
        let callbacks: Callbacks
        let mockCluster: OpaquePointer?
        let queues: [OpaquePointer]
        let topics: [OpaquePointer]

        func destroy() {
            assertNotOnTaskThread("rd_kafka_destroy")
            if let mockCluster { rd_kafka_mock_cluster_destroy(mockCluster) }
            queues.forEach { rd_kafka_queue_destroy($0) }
            topics.forEach { rd_kafka_topic_destroy($0) }
            rd_kafka_destroy(handle)
            withExtendedLifetime(callbacks) {}
        }
    }

    /// The reason librdkafka gave when it raised a fatal error, if it has.
    func fatalError() -> KafkaError? {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &text, text.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(.fatal, Self.string(text), librdkafkaCode: code.rawValue, isRetriable: false)
    }

    // MARK: - Producer

    /// Enqueues every message of `batch`; message `i` carries the token `tokenBase | i`.
    /// Returns the indices that librdkafka refused, with the reason (queue full, too large...).
    func produce(_ batch: KafkaProducerBatch, tokenBase: UInt) -> [(index: Int, error: KafkaError)] {
        var refused: [(index: Int, error: KafkaError)] = []
        let flags = Int32(alertron_msg_flag_copy())
        var byTopic = [[Int]](repeating: [], count: batch.topics.count)
        for (index, entry) in batch.entries.enumerated() { byTopic[entry.topicIndex].append(index) }
        batch.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
            for (topicIndex, indices) in byTopic.enumerated() where !indices.isEmpty {
                guard let topic = topicHandle(batch.topics[topicIndex]) else {
                    let error = KafkaError(.configuration, "topic name '\(batch.topics[topicIndex].prefix(100))' is not valid", isRetriable: false)
                    refused.append(contentsOf: indices.map { ($0, error) })
                    continue
                }
                var messages = indices.map { index -> rd_kafka_message_t in
                    let entry = batch.entries[index]
                    var message = rd_kafka_message_t()
                    message.payload = base.map { $0 + entry.valueStart }
                    message.len = entry.valueLength
                    if entry.keyLength >= 0 {
                        message.key = base.map { $0 + entry.keyStart }
                        message.key_len = entry.keyLength
                    }
                    message._private = UnsafeMutableRawPointer(bitPattern: tokenBase | UInt(index))
                    return message
                }
                let enqueued = messages.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_produce_batch(topic, alertron_partition_unassigned(), flags,
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
                    outcomes.append(DeliveryOutcome(
                        token: UInt(bitPattern: message._private),
                        partition: message.partition,
                        offset: message.offset,
                        error: failed ? Self.error(message.err, defaultCode: .deliveryFailed) : nil))
                }
            }
        case Int32(alertron_event_error()):
            let fatal = rd_kafka_event_error_is_fatal(event) != 0
            let error = fatal ? (fatalError() ?? KafkaError(.fatal, Self.string(rd_kafka_event_error_string(event))))
                : KafkaError(.deliveryFailed, Self.string(rd_kafka_event_error_string(event)),
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

    // MARK: - Consumer

    func subscribe(_ topics: [String]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, alertron_partition_unassigned())
        }
        let result = rd_kafka_subscribe(handle, list)
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
        guard let first = rd_kafka_consume_queue(queue, timeoutMilliseconds) else { return KafkaConsumerBatch(messages: []) }
        var pointers = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: capacity)
        pointers[0] = first
        let received = capacity > 1
            ? 1 + max(0, pointers.withUnsafeMutableBufferPointer { buffer in
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
            messages.append(KafkaConsumerMessage(
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
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (topicPartition, offset) in offsets {
            rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition).pointee.offset = offset
        }
        let result = rd_kafka_offsets_store(handle, list)
        let elements = UnsafeBufferPointer(start: list!.pointee.elems, count: Int(list!.pointee.cnt))
        let failed = elements.filter { $0.err != RD_KAFKA_RESP_ERR_NO_ERROR }
        if result != RD_KAFKA_RESP_ERR_NO_ERROR || !failed.isEmpty {
            let names = failed.map { "\(Self.string($0.topic))[\($0.partition)]" }.joined(separator: ", ")
            let reason = Self.string(rd_kafka_err2str(failed.first?.err ?? result))
            throw KafkaError(.offsets, "offsets not stored for \(names.isEmpty ? "some partitions" : names): \(reason)",
                             librdkafkaCode: (failed.first?.err ?? result).rawValue, isRetriable: false)
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

    /// Partitions currently assigned to this member.
    func assignment() -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return Self.partitions(list)
    }

    /// Messages behind the high watermark, per topic, over the assigned partitions. Uses
    /// cached watermarks from fetch responses: cheap, never blocks on the network.
    func lagByTopic() -> [String: Int64] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [:] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_position(handle, list)
        var lag: [String: Int64] = [:]
        for element in UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)) {
            var low: Int64 = 0
            var high: Int64 = 0
            let topic = Self.string(element.topic)
            lag[topic, default: 0] += 0
            // Before the first fetch the position (and the cached high watermark) are unknown:
            // such a partition adds nothing rather than a made-up number.
            guard element.offset >= 0,
                  rd_kafka_get_watermark_offsets(handle, element.topic, element.partition, &low, &high)
                    == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
            lag[topic, default: 0] += max(0, high - element.offset)
        }
        return lag
    }

    // MARK: - Cluster

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
            guard let topic = rd_kafka_NewTopic_new(specification.name, Int32(specification.partitions),
                                                    Int32(specification.replicationFactor), &errorText, errorText.count) else {
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
            if eventError == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || text.localizedLowercase.contains("not supported") {
                throw KafkaError(.unsupported,
                                 "the broker does not support CreateTopics (\(text)); create the topics on the broker itself "
                                 + "(the development broker creates its topics at start: see alertron-devbroker --topic)",
                                 librdkafkaCode: eventError.rawValue, isRetriable: false)
            }
            if eventError == RD_KAFKA_RESP_ERR__TIMED_OUT {
                // The development broker names no controller, so the request never leaves.
                throw KafkaError(.timedOut,
                                 "CreateTopics got no answer (\(text)); a broker without the admin API, such as the "
                                 + "development broker, needs its topics created on the broker itself (alertron-devbroker --topic)",
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
                failures.append("\(Self.string(rd_kafka_topic_result_name(topicResult))): \(Self.string(rd_kafka_topic_result_error_string(topicResult)))")
            }
        }
        if !failures.isEmpty {
            throw KafkaError(.topicCreation, "the broker refused: " + failures.joined(separator: "; "), isRetriable: false)
        }
    }

    // MARK: - Mock cluster (the development broker)

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

    // MARK: - Callbacks and conversions

    private static func callbacks(of handle: OpaquePointer?) -> Callbacks? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<Callbacks>.fromOpaque(opaque).takeUnretainedValue()
    }

    private static let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
        handle, level, facility, text in
        guard let callbacks = RDKafkaClient.callbacks(of: handle) else { return }
        // syslog levels 0-7. Errors also arrive through the error callback or event, which
        // logs them as warnings, so librdkafka's own lines are kept one notch lower.
        let swiftLevel: Logger.Level = level <= 4 ? .info : level <= 6 ? .debug : .trace
        callbacks.logger.log(level: swiftLevel, "\(RDKafkaClient.string(text))",
                             metadata: ["kafka.facility": "\(RDKafkaClient.string(facility))"])
    }

    private static let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
        handle, code, reason, _ in
        guard let callbacks = RDKafkaClient.callbacks(of: handle) else { return }
        let error = KafkaError(.consumer, RDKafkaClient.string(reason), librdkafkaCode: code)
        callbacks.onError(error, code == RD_KAFKA_RESP_ERR__FATAL.rawValue)
    }

    private static let rebalanceCallback: @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
    ) -> Void = { handle, code, list, _ in
        guard let handle else { return }
        let cooperative = RDKafkaClient.string(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        let partitions = list.map(RDKafkaClient.partitions) ?? []
        var kind: RebalanceEvent.Kind
        var failure: String?
        switch code {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            kind = .assigned
            if cooperative {
                failure = RDKafkaClient.consume(rd_kafka_incremental_assign(handle, list))
            } else {
                failure = RDKafkaClient.describe(rd_kafka_assign(handle, list))
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            kind = .revoked
            if cooperative {
                failure = RDKafkaClient.consume(rd_kafka_incremental_unassign(handle, list))
            } else {
                failure = RDKafkaClient.describe(rd_kafka_assign(handle, nil))
            }
        default:
            // The group could not be joined; drop whatever was assigned, as librdkafka advises.
            kind = .failed
            failure = RDKafkaClient.string(rd_kafka_err2str(code))
            _ = rd_kafka_assign(handle, nil)
        }
        RDKafkaClient.callbacks(of: handle)?.onRebalance?(RebalanceEvent(kind: kind, partitions: partitions, reason: failure))
    }

    private static func consume(_ error: OpaquePointer?) -> String? {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        return string(rd_kafka_error_string(error))
    }

    private static func describe(_ code: rd_kafka_resp_err_t) -> String? {
        code == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : string(rd_kafka_err2str(code))
    }

    private static func partitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)).map {
            KafkaTopicPartition(topic: string($0.topic), partition: $0.partition)
        }
    }

    private static func append(_ pointer: UnsafeMutableRawPointer?, _ length: Int, to storage: inout [UInt8]) -> Range<Int>? {
        guard let pointer else { return nil }
        let start = storage.count
        storage.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
        return start..<storage.count
    }

    static func error(_ code: rd_kafka_resp_err_t, defaultCode: KafkaError.Code) -> KafkaError {
        let text = string(rd_kafka_err2str(code))
        switch code {
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
            return KafkaError(.queueFull, "the producer's local queue is full: \(text)", librdkafkaCode: code.rawValue)
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
            return KafkaError(.timedOut, text, librdkafkaCode: code.rawValue, isRetriable: true)
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
            return KafkaError(.messageTooLarge, text, librdkafkaCode: code.rawValue, isRetriable: false)
        case RD_KAFKA_RESP_ERR__FATAL:
            return KafkaError(.fatal, text, librdkafkaCode: code.rawValue, isRetriable: false)
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
             RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__INVALID_ARG,
             RD_KAFKA_RESP_ERR_INVALID_MSG, RD_KAFKA_RESP_ERR__AUTHENTICATION:
            return KafkaError(defaultCode, text, librdkafkaCode: code.rawValue, isRetriable: false)
        default:
            return KafkaError(defaultCode, text, librdkafkaCode: code.rawValue)
        }
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    static func string(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { string($0.baseAddress) }
    }
}

/// Debug builds stop at a blocking librdkafka call made on a thread that is running a Swift
/// task (the cooperative pool, or any task executor): such calls belong on the client's own
/// queues and threads. Calls that only hand work to librdkafka's threads (produce, store
/// offsets, the mock cluster's requests) return at once and are not checked.
@inline(__always)
func assertNotOnTaskThread(_ call: StaticString) {
    assert(withUnsafeCurrentTask { $0 == nil }, "\(call) blocks its thread: call it from the Kafka client's queue, not from a task")
}
