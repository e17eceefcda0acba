// The one error type of the Kafka module: a code to branch on, whether a retry can help,
// and a message a person can act on. Payloads never appear in a description.

public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A property was unknown or had an invalid value; fix the configuration.
        case configuration
        /// librdkafka could not create its client handle.
        case clientCreation = "client_creation"
        /// The producer's local queue is full: slow down and try again (backpressure).
        case queueFull = "queue_full"
        /// The broker did not acknowledge some messages within `message.timeout.ms`.
        case deliveryFailed = "delivery_failed"
        /// The client is shutting down or closed and takes no more work.
        case shutDown = "shut_down"
        /// A request did not complete in time; the broker may be unreachable.
        case timedOut = "timed_out"
        /// The broker does not implement the request (the development broker lacks CreateTopics).
        case unsupported
        /// Topic creation was refused for a reason other than "already exists".
        case topicCreation = "topic_creation"
        /// Metadata could not be fetched.
        case metadata
        /// Storing or committing consumer offsets failed.
        case offsets
        /// A consumer-side error reported by librdkafka.
        case consumer
        /// The development (mock) cluster refused an operation.
        case mockCluster = "mock_cluster"
        /// The broker refuses a message this large.
        case messageTooLarge = "message_too_large"
        /// librdkafka raised a fatal error (for example the idempotent producer lost its
        /// guarantees); the client is unusable and the process should restart.
        case fatal
    }

    public var code: Code
    public var message: String
    /// librdkafka's numeric error code, when the error came from it.
    public var librdkafkaCode: Int32?
    /// True when the same call may succeed later without a configuration change.
    public var isRetriable: Bool

    public init(_ code: Code, _ message: String, librdkafkaCode: Int32? = nil, isRetriable: Bool? = nil) {
        self.code = code
        self.message = message
        self.librdkafkaCode = librdkafkaCode
        self.isRetriable = isRetriable ?? [.queueFull, .deliveryFailed, .timedOut, .metadata].contains(code)
    }

    public var description: String { "kafka \(code.rawValue): \(message)" }
}
