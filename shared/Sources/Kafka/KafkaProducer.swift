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
    private let fatal: FatalErrorSignal
    private let shutdownStarted = OnceFlag()
    /// Blocking librdkafka calls (flush, metadata, admin) run here, off Swift's shared pool,
    /// one at a time. Serial on purpose: on Linux a concurrent queue runs on the same
    /// dispatch threads as Swift's tasks, so three producers flushing against a dead broker
    /// held all of them and /readyz answered 2 s late; a serial queue gets a thread of its own.
    private let blockingQueue = DispatchQueue(label: "alertron.kafka.producer.blocking")
    /// Where `send(_:within:)` deadlines fire: a timer each, never blocked by a flush.
    private let deadlines = DispatchQueue(label: "alertron.kafka.producer.deadlines")

    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let fatal = FatalErrorSignal()
        self.fatal = fatal
        let callbacks = RDKafkaClient.Callbacks(logger: logger, onRebalance: nil) { error, isFatal in
            KafkaMetrics.errors.increment()
            logger.log(
                level: isFatal ? .critical : .warning, "kafka producer error",
                metadata: ["error": "\(error)", "fatal": "\(isFatal)"])
            if isFatal { fatal.raise(error) }
        }
        var properties = configuration.librdkafkaProperties
        // Same key, same partition as Java clients and Redpanda tooling.
        properties["partitioner"] = properties["partitioner"] ?? "murmur2_random"
        client = try RDKafkaClient(
            kind: .producer, properties: properties,
            lenient: configuration.kafka.environmentPropertyNames, callbacks: callbacks)
        poller = DeliveryPoller(client: client, tracker: tracker)
        KafkaMetrics.declare()
    }

    /// Makes the per-topic series of what this producer will write at 0 now, so dashboards and
    /// rate() see its first messages (call once with the service's output topics).
    public func declare(topics: [String]) {
        for topic in topics { _ = KafkaMetrics.produced[topic] }
    }

    deinit { poller.stop() }

    /// Sends every message of the batch and returns, in batch order, where each was stored.
    /// Completes when the broker has acknowledged all of them, or throws a `KafkaError`:
    /// `.queueFull` (retriable) when the local queue cannot take them, which callers turn
    /// into backpressure; `.deliveryFailed` when some were not acknowledged in time; a
    /// non-retriable code when resending cannot help. Resending a failed batch may
    /// duplicate the messages that did arrive (consumers drop duplicates by event id).
    public func send(_ batch: KafkaProducerBatch) async throws -> [KafkaDeliveryReport] {
        try await send(batch, deadline: nil)
    }

    /// Sends the batch, but answers within `deadline` whatever the producer does: librdkafka's
    /// own message timeout is not a deadline (an idempotent producer waiting for a broker
    /// stalls well past it). Throws `.timedOut` when the deadline passes first; messages still
    /// queued then may yet be delivered, so a caller that sends them again may duplicate them
    /// (at-least-once, never lost).
    public func send(_ batch: KafkaProducerBatch, within deadline: Duration) async throws -> [KafkaDeliveryReport] {
        try await send(batch, deadline: deadline)
    }

    private func send(_ batch: KafkaProducerBatch, deadline: Duration?) async throws -> [KafkaDeliveryReport] {
        guard !batch.isEmpty else { return [] }
        if let error = fatal.error { throw error }
        poller.start()
        let outstanding = client.outstandingMessages
        if outstanding + batch.count > configuration.queueMaxMessages {
            throw KafkaError(
                .queueFull,
                "the local queue holds \(outstanding) of at most \(configuration.queueMaxMessages) "
                    + "messages; \(batch.count) more do not fit: slow down and resend",
                isRetriable: batch.count <= configuration.queueMaxMessages)
        }
        let client = self.client
        let reports = try await withCheckedThrowingContinuation { (waiter: Waiter) in
            // Enqueue under the tracker's lock (produce_batch does not block), so shutdown
            // either rejects this batch or finds it queued and flushes it: never in between.
            let outcome = tracker.withLock { tracker -> Result<DeliveryTracker<Waiter>.Completion?, KafkaError> in
                switch tracker.start(batch, waiter: waiter) {
                case .reject(let error):
                    return .failure(error)
                case .enqueue(let tokenBase):
                    let refused = client.produce(batch, tokenBase: tokenBase)
                    if let deadline { expire(tokenBase, after: deadline) }
                    return .success(refused.isEmpty ? nil : tracker.refuse(tokenBase: tokenBase, refused))
                }
            }
            switch outcome {
            case .failure(let error): waiter.resume(throwing: error)
            case .success(let completion): if let completion { Self.complete([completion]) }
            }
        }
        countProduced(reports)
        return reports
    }

    /// Fails the batch as timed out once `deadline` passes, unless its reports came first:
    /// the tracker decides which, under its lock, so the sender is answered exactly once.
    private func expire(_ tokenBase: UInt, after deadline: Duration) {
        let tracker = self.tracker
        deadlines.asyncAfter(deadline: .now() + .nanoseconds(Int(deadline.nanoseconds))) {
            if let completion = tracker.withLock({ $0.expire(tokenBase: tokenBase, deadline: deadline) }) {
                KafkaProducer.complete([completion])
            }
        }
    }

    /// Sends the batch again and again until the broker has acknowledged all of it, waiting
    /// `backoff` between tries; `onFailure` hears of each failed try and the wait that follows
    /// (to log it, count it). A failed try may have delivered part of the batch: consumers drop
    /// the duplicates by event id. Gives up, returning false, when the task is cancelled, the
    /// producer shuts down, or `giveUp()` says so (asked after every failure and every wait).
    /// For output that must not be lost: a permanent error is retried too, and says so loudly
    /// through `onFailure` rather than skipping the batch.
    public func sendUntilAcknowledged(
        _ batch: KafkaProducerBatch, backoff: Backoff = Backoff(),
        giveUp: () -> Bool = { false },
        onFailure: (_ error: any Error, _ retryIn: Duration) -> Void
    ) async -> Bool {
        guard !batch.isEmpty else { return true }
        var backoff = backoff
        while !Task.isCancelled {
            do {
                _ = try await send(batch)
                return true
            } catch {
                if (error as? KafkaError)?.code == .shutDown || giveUp() { return false }
                let wait = backoff.next()
                onFailure(error, wait)
                do { try await Task.sleep(for: wait) } catch { return false }
                if giveUp() { return false }
            }
        }
        return false
    }

    /// Messages in the local queue not yet acknowledged by the broker.
    public var queuedMessages: Int { client.outstandingMessages }

    /// Sends one message; see `send(_:)` for the batch form and its errors.
    public func send(topic: String, key: String?, value: some Collection<UInt8>) async throws -> KafkaDeliveryReport {
        var batch = KafkaProducerBatch(capacity: 1)
        batch.append(topic: topic, key: key, value: value)
        return try await send(batch)[0]
    }

    /// The "Kafka reachable" readiness check: the broker answers a metadata request within two
    /// seconds. The request blocks on the producer's own queue, not on the shared pool.
    public func checkReachable() async throws {
        _ = try await metadata(allTopics: false, timeout: .seconds(2))
    }

    /// Broker and topic metadata. With `allTopics: false` only topics this producer already
    /// uses are asked for: cheap enough for a "Kafka reachable" readiness check.
    public func metadata(allTopics: Bool = true, timeout: Duration = .seconds(5)) async throws -> KafkaClusterMetadata {
        let client = self.client
        return try await blockingQueue.run {
            try client.metadata(allTopics: allTopics, timeoutMilliseconds: timeout.milliseconds)
        }
    }

    /// Creates topics on a real broker; existing topics count as created. The development
    /// broker cannot: it creates its topics itself.
    public func createTopics(_ topics: [KafkaTopicSpecification], timeout: Duration = .seconds(10)) async throws {
        let client = self.client
        try await blockingQueue.run { try client.createTopics(topics, timeoutMilliseconds: timeout.milliseconds) }
    }

    /// Waits for graceful shutdown, then stops taking messages, flushes (bounded by
    /// `flushTimeout`) and fails every send still waiting, logging how many were lost.
    /// Throws the error when librdkafka raises a fatal one, after the same shutdown.
    public func run() async throws {
        poller.start()
        let fatalError = await fatal.waitForShutdownOrFatal { try await gracefulShutdown() }
        await shutdown()
        if let fatalError { throw fatalError }
    }

    /// The shutdown `run()` performs, for owners that do not run a ServiceGroup. Only the
    /// first call does the work; later calls return at once.
    public func shutdown() async {
        guard shutdownStarted.set() else { return }
        tracker.withLock { $0.stopAccepting() }
        let client = self.client
        let timeout = configuration.flushTimeout.milliseconds
        let flushed = await blockingQueue.run { () -> Bool in
            if client.flush(timeoutMilliseconds: timeout) { return true }
            // Out of time: purge, so every remaining message gets a definite failed report.
            client.purgeOutstanding()
            _ = client.flush(timeoutMilliseconds: 1000)
            return false
        }
        // The poller serves the last delivery reports; wait until it has, then stop it.
        let deadline = ContinuousClock.now + .seconds(2)
        while tracker.withLock({ $0.pendingMessages }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        poller.stop()
        let (undelivered, abandoned) = tracker.withLock { ($0.pendingMessages, $0.abandonAll()) }
        Self.complete(abandoned)
        if flushed && abandoned.isEmpty {
            logger.info("kafka producer flushed and closed")
        } else {
            logger.error(
                "kafka producer closed before every message was acknowledged",
                metadata: [
                    "flush_timeout_ms": "\(timeout)", "unreported_messages": "\(undelivered)",
                    "failed_batches": "\(abandoned.count)",
                ])
        }
    }

    private func countProduced(_ reports: [KafkaDeliveryReport]) {
        var topic = reports[0].topic
        var run = 0
        for report in reports {
            if report.topic != topic {
                KafkaMetrics.produced[topic].increment(by: run)
                (topic, run) = (report.topic, 0)
            }
            run += 1
        }
        KafkaMetrics.produced[topic].increment(by: run)
    }

    fileprivate static func complete(_ completions: [DeliveryTracker<Waiter>.Completion]) {
        for (waiter, result) in completions {
            if case .failure = result { KafkaMetrics.deliveryFailures.increment() }
            waiter.resume(with: result.mapError { $0 as any Error })
        }
    }

    /// Serves the producer's event queue on a dedicated thread: delivery reports complete
    /// batches, errors go to the log. Holds no reference to the producer itself. The thread
    /// starts with the producer's `run()` or its first send, whichever comes first, not in
    /// `init`; once stopped it never starts.
    private final class DeliveryPoller: Sendable {
        private let client: RDKafkaClient
        private let tracker: Locked<DeliveryTracker<Waiter>>
        private let started = OnceFlag()
        private let stopped = OnceFlag()

        init(client: RDKafkaClient, tracker: Locked<DeliveryTracker<Waiter>>) {
            self.client = client
            self.tracker = tracker
        }

        func start() {
            guard !started.isSet, started.set(), !stopped.isSet else { return }
            let (client, tracker) = (self.client, self.tracker)
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
    /// Runs blocking work on this queue and resumes the caller with its result. Use a serial
    /// queue: a concurrent one (or a global one) shares its threads with Swift's tasks.
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
    /// Whole nanoseconds, clamped to 0...Int64.max.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : max(0, scaled &+ attoseconds / 1_000_000_000)
    }

    /// Whole milliseconds, clamped to 0...Int32.max (librdkafka reads -1 as "forever").
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let total = overflow ? Int64.max : scaled &+ attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, total))
    }
}

/// What an HTTP route needs of a producer: a batch sent within a deadline, and the local queue's
/// depth. Routes depend on this, so their tests can show that a refused request never reaches
/// Kafka without running a broker.
public protocol BatchSending: Sendable {
    func send(_ batch: KafkaProducerBatch, within deadline: Duration) async throws -> [KafkaDeliveryReport]
    var queuedMessages: Int { get }
}

extension KafkaProducer: BatchSending {}
