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
public struct KafkaRebalanceEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case assigned, revoked, failed }
    public var kind: Kind
    /// The partitions that changed hands (the cooperative protocol), or the whole assignment.
    public var partitions: [KafkaTopicPartition]
    public var reason: String?
}

/// One delivery report from the producer's event queue.
struct DeliveryOutcome {
    var token: UInt
    var partition: Int32
    var offset: Int64
    /// nil when the broker acknowledged the message.
    var error: KafkaError?
}

package final class RDKafkaClient: @unchecked Sendable {
    // @unchecked: librdkafka's handle is thread-safe for the calls made here. Mutable Swift
    // state: topic handles behind their lock; `consumerQueue` is touched only from the
    // consumer's serial poll queue, `deliveryScratch` only from the delivery thread;
    // `destroyFirst` is set once, right after init. Its halves live in RDKafkaClient+Producer,
    // +Consumer and +Admin, and the mock cluster's in KafkaDevelopment (through `package`
    // access); the stored state is internal for them, and nothing outside this type touches it.

    /// `mockHost` is a handle that only carries the mock cluster: no events, never polled.
    package enum Kind { case producer, consumer, mockHost }

    /// Receives what librdkafka reports from its own threads; kept alive by the client and
    /// handed to C as the configuration's opaque pointer.
    package final class Callbacks: @unchecked Sendable {
        let logger: Logger
        let onRebalance: (@Sendable (KafkaRebalanceEvent) -> Void)?
        let onError: @Sendable (KafkaError, _ fatal: Bool) -> Void
        package init(
            logger: Logger, onRebalance: (@Sendable (KafkaRebalanceEvent) -> Void)?,
            onError: @escaping @Sendable (KafkaError, Bool) -> Void
        ) {
            self.logger = logger
            self.onRebalance = onRebalance
            self.onError = onError
        }
    }

    let kind: Kind
    package let handle: OpaquePointer
    let callbacks: Callbacks
    let topicHandles = Locked<[String: OpaquePointer]>([:])
    /// Runs on the teardown thread before the handle is destroyed: what hangs off the handle
    /// (KafkaDevelopment's mock cluster) goes first. Set once, right after init.
    package var destroyFirst: (@Sendable () -> Void)?
    /// Held for the client's life instead of fetched (and allocated) on every poll.
    let mainQueue: OpaquePointer?
    var consumerQueue: OpaquePointer?
    /// Reused by `pollDeliveries`, which only the producer's delivery thread calls.
    var deliveryScratch = [UnsafePointer<rd_kafka_message_t>?](repeating: nil, count: 1024)

    /// Creates a client. Producers receive delivery reports and errors as events on the main
    /// queue (see `pollDeliveries`); consumers get errors and rebalances through callbacks
    /// served by `consumeBatch`.
    /// `lenient` names properties that came from the environment: an unknown one is skipped
    /// with a warning (Kubernetes injects KAFKA_PORT and friends for a Service named kafka),
    /// while an unknown property given in code or by flag is an error.
    package init(kind: Kind, properties: [String: String], lenient: Set<String> = [], callbacks: Callbacks) throws {
        self.kind = kind
        self.callbacks = callbacks
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(.clientCreation, "librdkafka could not allocate a configuration")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
            if result == RD_KAFKA_CONF_UNKNOWN && lenient.contains(name) {
                callbacks.logger.warning(
                    "ignoring an environment variable that is not a librdkafka property",
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
        let resources = Teardown(
            handle: handle, callbacks: callbacks, destroyFirst: destroyFirst,
            queues: [mainQueue, consumerQueue].compactMap { $0 },
            topics: topicHandles.withLock { Array($0.values) })
        let thread = Thread { resources.destroy() }
        thread.name = "alertron-kafka-destroy"
        thread.start()
    }

    private struct Teardown: @unchecked Sendable {
        let handle: OpaquePointer
        let callbacks: Callbacks
        let destroyFirst: (@Sendable () -> Void)?
        let queues: [OpaquePointer]
        let topics: [OpaquePointer]

        func destroy() {
            assertNotOnTaskThread("rd_kafka_destroy")
            destroyFirst?()
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

    // MARK: - Callbacks and conversions

    private static func callbacks(of handle: OpaquePointer?) -> Callbacks? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<Callbacks>.fromOpaque(opaque).takeUnretainedValue()
    }

    private static let logCallback:
        @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
            handle, level, facility, text in
            guard let callbacks = RDKafkaClient.callbacks(of: handle) else { return }
            // syslog levels 0-7. Errors also arrive through the error callback or event, which
            // logs them as warnings, so librdkafka's own lines are kept one notch lower.
            let swiftLevel: Logger.Level = level <= 4 ? .info : level <= 6 ? .debug : .trace
            callbacks.logger.log(
                level: swiftLevel, "\(RDKafkaClient.string(text))",
                metadata: ["kafka.facility": "\(RDKafkaClient.string(facility))"])
        }

    private static let errorCallback:
        @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
            handle, code, reason, _ in
            guard let callbacks = RDKafkaClient.callbacks(of: handle) else { return }
            let error = KafkaError(.consumer, RDKafkaClient.string(reason), librdkafkaCode: code)
            callbacks.onError(error, code == RD_KAFKA_RESP_ERR__FATAL.rawValue)
        }

    private static let rebalanceCallback:
        @convention(c) (
            OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
            UnsafeMutableRawPointer?
        ) -> Void = { handle, code, list, _ in
            guard let handle else { return }
            let cooperative = RDKafkaClient.string(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
            let partitions = list.map(RDKafkaClient.partitions) ?? []
            let kind: KafkaRebalanceEvent.Kind
            let failure: String?
            // The cooperative protocol hands over the change, the eager one the whole assignment.
            switch (code, cooperative) {
            case (RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, true):
                (kind, failure) = (.assigned, RDKafkaClient.consume(rd_kafka_incremental_assign(handle, list)))
            case (RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, false):
                (kind, failure) = (.assigned, RDKafkaClient.describe(rd_kafka_assign(handle, list)))
            case (RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, true):
                (kind, failure) = (.revoked, RDKafkaClient.consume(rd_kafka_incremental_unassign(handle, list)))
            case (RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, false):
                (kind, failure) = (.revoked, RDKafkaClient.describe(rd_kafka_assign(handle, nil)))
            default:
                // The group could not be joined; drop whatever was assigned, as librdkafka advises.
                (kind, failure) = (.failed, RDKafkaClient.string(rd_kafka_err2str(code)))
                _ = rd_kafka_assign(handle, nil)
            }
            RDKafkaClient.callbacks(of: handle)?.onRebalance?(
                KafkaRebalanceEvent(kind: kind, partitions: partitions, reason: failure))
        }

    private static func consume(_ error: OpaquePointer?) -> String? {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        return string(rd_kafka_error_string(error))
    }

    private static func describe(_ code: rd_kafka_resp_err_t) -> String? {
        code == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : string(rd_kafka_err2str(code))
    }

    static func partitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)).map {
            KafkaTopicPartition(topic: string($0.topic), partition: $0.partition)
        }
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

    package static func string(_ pointer: UnsafePointer<CChar>?) -> String {
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
    assert(
        withUnsafeCurrentTask { $0 == nil },
        "\(call) blocks its thread: call it from the Kafka client's queue, not from a task")
}
