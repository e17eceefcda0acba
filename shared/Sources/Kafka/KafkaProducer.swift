// Sends messages to Kafka and reports, per batch, where each one landed. A Service: run()
// returns after shutdown has flushed what callers were promised, or reported what was lost.
import Dispatch
import Foundation
import Logging
import ServiceLifecycle

public final class KafkaProducer: Service, Sendable {
    fileprivate typealias Waiter = CheckedContinuation<[KafkaDeliveryReport], any Error>

    private let client: RDKafkaClient
    private let configuration: KafkaProducerConfiguration
    private let logger: Logger
    private let tracker = Locked(DeliveryTracker<Waiter>())
    private let poller: DeliveryPoller
    /// Blocking librdkafka calls (flush, metadata, admin) run here, off the cooperative pool.
    private let blockingQueue = DispatchQueue(label: "alertron.kafka.producer.blocking", attributes: .concurrent)

    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let callbacks = RDKafkaClient.Callbacks(logger: logger, onRebalance: nil) { error, fatal in
            KafkaMetrics.errors.increment()
            logger.log(level: fatal ? .critical : .warning, "kafka producer error",
                       metadata: ["error": "\(error)", "fatal": "\(fatal)"])
        }
        var properties = configuration.librdkafkaProperties
        // Same key, same partition as Java clients and Redpanda tooling.
        properties["partitioner"] = properties["partitioner"] ?? "murmur2_random"
        client = try RDKafkaClient(kind: .producer, properties: properties, callbacks: callbacks)
        poller = DeliveryPoller(client: client, tracker: tracker)
    }

    deinit { poller.stop() }

    /// Sends every message of the batch and returns, in batch order, where each was stored.
    /// Completes when the broker has acknowledged all of them (or throws `KafkaError`:
    /// `.queueFull` when the local queue cannot take them, which callers turn into
    /// backpressure; `.deliveryFailed` when some were not acknowledged in time).
    /// Resending a failed batch may duplicate the messages that did arrive.
    public func send(_ batch: KafkaProducerBatch) async throws -> [KafkaDeliveryReport] {
        guard !batch.isEmpty else { return [] }
        let outstanding = client.outstandingMessages
        if outstanding + batch.count > configuration.queueMaxMessages {
            throw KafkaError(.queueFull, "the local queue holds \(outstanding) of at most \(configuration.queueMaxMessages) "
                             + "messages; \(batch.count) more do not fit: slow down and resend")
        }
        let reports = try await withCheckedThrowingContinuation { (waiter: Waiter) in
            switch tracker.withLock({ $0.start(batch, waiter: waiter) }) {
            case .reject(let error):
                waiter.resume(throwing: error)
            case .enqueue(let tokenBase):
                let refused = client.produce(batch, tokenBase: tokenBase)
                if !refused.isEmpty, let completion = tracker.withLock({ $0.refuse(tokenBase: tokenBase, refused) }) {
                    Self.complete([completion])
                }
            }
        }
        for report in reports { KafkaMetrics.produced.increment(report.topic) }
        return reports
    }

    /// Sends one message; see `send(_:)` for the batch form and its errors.
    public func send(topic: String, key: String?, value: some Collection<UInt8>) async throws -> KafkaDeliveryReport {
        var batch = KafkaProducerBatch(capacity: 1)
        batch.append(topic: topic, key: key, value: value)
        return try await send(batch)[0]
    }

    /// Broker and topic metadata; doubles as the "Kafka reachable" readiness check.
    public func metadata(timeout: Duration = .seconds(5)) async throws -> KafkaClusterMetadata {
        let client = self.client
        return try await blockingQueue.run { try client.metadata(timeoutMilliseconds: timeout.milliseconds) }
    }

    /// Creates topics on a real broker; existing topics count as created. The development
    /// broker answers `.unsupported`: it creates its topics itself.
    public func createTopics(_ topics: [KafkaTopicSpecification], timeout: Duration = .seconds(10)) async throws {
        let client = self.client
        try await blockingQueue.run { try client.createTopics(topics, timeoutMilliseconds: timeout.milliseconds) }
    }

    /// Waits for graceful shutdown, then stops taking messages, flushes (bounded by
    /// `flushTimeout`) and fails every send still waiting, logging how many were lost.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// The same shutdown `run()` performs, for owners that do not run a ServiceGroup.
    public func shutdown() async {
        tracker.withLock { $0.stopAccepting() }
        let client = self.client
        let timeout = configuration.flushTimeout.milliseconds
        let remaining = await blockingQueue.run { client.flush(timeoutMilliseconds: timeout) }
        // The poller serves the last delivery reports; wait until it has, then stop it.
        let deadline = ContinuousClock.now + .seconds(1)
        while tracker.withLock({ $0.pendingMessages }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        poller.stop()
        let abandoned = tracker.withLock { $0.abandonAll() }
        if remaining > 0 || !abandoned.isEmpty {
            KafkaMetrics.deliveryFailures.increment(by: remaining)
            logger.error("kafka producer closed with undelivered messages",
                         metadata: ["undelivered": "\(remaining)", "waiting_batches": "\(abandoned.count)"])
        } else {
            logger.info("kafka producer flushed and closed")
        }
        Self.complete(abandoned)
    }

    fileprivate static func complete(_ completions: [DeliveryTracker<Waiter>.Completion]) {
        for (waiter, result) in completions {
            if case .failure = result { KafkaMetrics.deliveryFailures.increment() }
            waiter.resume(with: result.mapError { $0 as any Error })
        }
    }

    /// Serves the producer's event queue on a dedicated thread: delivery reports complete
    /// batches, errors go to the log. Holds no reference to the producer itself.
    private final class DeliveryPoller: Sendable {
        private let stopped = OnceFlag()

        init(client: RDKafkaClient, tracker: Locked<DeliveryTracker<Waiter>>) {
            let thread = Thread { [stopped] in
                var outcomes: [DeliveryOutcome] = []
                var lastGauge = ContinuousClock.now
                while !stopped.isSet {
                    client.pollDeliveries(timeoutMilliseconds: 100, into: &outcomes)
                    if !outcomes.isEmpty {
                        KafkaProducer.complete(tracker.withLock { $0.deliver(outcomes) })
                        outcomes.removeAll(keepingCapacity: true)
                    }
                    if ContinuousClock.now - lastGauge > .seconds(1) {
                        lastGauge = ContinuousClock.now
                        KafkaMetrics.producerQueue.record(client.outstandingMessages)
                    }
                }
            }
            thread.name = "alertron-kafka-delivery"
            thread.start()
        }

        func stop() { stopped.set() }
    }
}

extension DispatchQueue {
    /// Runs blocking work on this queue and resumes the caller with its result.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.async { continuation.resume(with: Result { try work() }) }
        }
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            self.async { continuation.resume(returning: work()) }
        }
    }
}

extension Duration {
    /// Whole milliseconds, clamped to what librdkafka's Int32 timeouts take.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: total)
    }
}
