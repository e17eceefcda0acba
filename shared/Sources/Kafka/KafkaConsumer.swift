// A consumer-group member whose messages arrive as an AsyncSequence of batches, pulled by
// the caller so that librdkafka's own prefetch bounds memory. Offsets are stored only when
// the caller says the work is done (at-least-once); librdkafka commits what was stored.
import Dispatch
import Logging
import ServiceLifecycle

public final class KafkaConsumer: Service, Sendable {
    private let client: RDKafkaClient
    private let configuration: KafkaConsumerConfiguration
    private let logger: Logger
    /// Polls and close run here, one at a time, never on Swift's cooperative pool.
    private let pollQueue = DispatchQueue(label: "alertron.kafka.consumer.poll")
    private let closed = OnceFlag()
    private let fatal: FatalErrorSignal
    private let lastLagUpdate = Locked(ContinuousClock.now)

    /// `onRebalance` hears every assignment change, on librdkafka's poll thread, before the
    /// next batch is returned: a caller that keeps per-partition state drops or restores it there.
    public init(
        configuration: KafkaConsumerConfiguration, logger: Logger,
        onRebalance: @escaping @Sendable (KafkaRebalanceEvent) -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        let fatal = FatalErrorSignal()
        self.fatal = fatal
        if configuration.kafka.properties["enable.auto.offset.store"] == "true" {
            logger.warning("ignoring enable.auto.offset.store=true: offsets are stored only after their work is done")
        }
        let callbacks = RDKafkaClient.Callbacks(
            logger: logger,
            onRebalance: { event in
                KafkaMetrics.rebalances[event.kind.rawValue].increment()
                logger.log(
                    level: event.kind == .failed ? .error : .info, "kafka rebalance",
                    metadata: [
                        "kind": "\(event.kind.rawValue)",
                        "partitions": "\(event.partitions.map(\.description).joined(separator: ","))",
                        "reason": "\(event.reason ?? "")",
                    ])
                onRebalance(event)
            },
            onError: { error, isFatal in
                KafkaMetrics.errors.increment()
                logger.log(
                    level: isFatal ? .critical : .warning, "kafka consumer error",
                    metadata: ["error": "\(error)", "fatal": "\(isFatal)"])
                if isFatal { fatal.raise(error) }
            })
        client = try RDKafkaClient(
            kind: .consumer, properties: configuration.librdkafkaProperties,
            lenient: configuration.kafka.environmentPropertyNames, callbacks: callbacks)
        try client.subscribe(configuration.topics)
        KafkaMetrics.declare(consumedTopics: configuration.topics)
    }

    /// Batches of at most `maxBatchSize` messages. The sequence ends when the consumer
    /// closes, librdkafka raises a fatal error, or the iterating task is cancelled (for
    /// example by `cancelOnGracefulShutdown()`). Iterate from one task and store offsets in
    /// batch order: storing a later batch's offsets first would skip the earlier one on a crash.
    public var batches: Batches { Batches(consumer: self) }

    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = KafkaConsumerBatch
        let consumer: KafkaConsumer

        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        public struct Iterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            public mutating func next() async -> KafkaConsumerBatch? { await consumer.nextBatch() }
        }
    }

    private func nextBatch() async -> KafkaConsumerBatch? {
        let client = self.client
        let capacity = configuration.maxBatchSize
        let timeout = Int32(configuration.pollTimeoutMilliseconds)
        while !closed.isSet && !Task.isCancelled && fatal.error == nil {
            let lagDue = isLagUpdateDue()
            let batch = await pollQueue.run { [closed] () -> KafkaConsumerBatch? in
                guard !closed.isSet else { return nil }
                let batch = client.consumeBatch(capacity: capacity, timeoutMilliseconds: timeout)
                if lagDue {
                    for (topic, lag) in client.lagByTopic() { KafkaMetrics.lag[topic].record(lag) }
                }
                return batch
            }
            if let batch, !batch.isEmpty {
                countConsumed(batch)
                return batch
            }
        }
        return nil
    }

    /// Stores, for every partition in the batch, the offset after its last message: call it
    /// once the work for the whole batch is done. Throws `.offsets` for partitions a
    /// rebalance took away meanwhile (their new owner re-reads them: duplicates, never loss).
    public func storeOffsets(for batch: KafkaConsumerBatch) throws {
        try client.storeOffsets(batch.nextOffsets)
    }

    /// Stores explicit next-offsets (offset of the last finished message + 1).
    public func storeOffsets(_ nextOffsets: [KafkaTopicPartition: Int64]) throws {
        try client.storeOffsets(nextOffsets)
    }

    /// Commits the stored offsets now instead of at the next background commit.
    public func commit() async throws {
        let client = self.client
        try await pollQueue.run { try client.commitStoredOffsets() }
    }

    /// Partitions this member owns now.
    public func assignment() async -> [KafkaTopicPartition] {
        let client = self.client
        return await pollQueue.run { client.assignment() }
    }

    /// Messages behind the high watermark on the assigned partitions, per topic (partitions
    /// not fetched from yet count 0).
    public func lag() async -> [String: Int64] {
        let client = self.client
        return await pollQueue.run { client.lagByTopic() }
    }

    /// Waits for graceful shutdown (or cancellation), then closes: commits the stored
    /// offsets and leaves the group, so the remaining members take over at once. After a
    /// fatal librdkafka error it closes the same way and throws that error.
    public func run() async throws {
        let fatalError = await fatal.waitForShutdownOrFatal { try await gracefulShutdown() }
        await close()
        if let fatalError { throw fatalError }
    }

    /// Commits stored offsets and leaves the group; later polls return nothing. Waits at most
    /// `timeout`: librdkafka 2.0.2 can hang in close when an assignment arrives meanwhile
    /// (fixed upstream in 2.4.0), and a service must still exit.
    public func close(timeout: Duration = .seconds(15)) async {
        guard closed.set() else { return }
        let client = self.client
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<CloseOutcome, Never>) in
            let answer = ResumeOnce(continuation)
            pollQueue.async { answer.resume(client.closeConsumer().map(CloseOutcome.failed) ?? .closed) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout.milliseconds))) {
                answer.resume(.timedOut)
            }
        }
        switch outcome {
        case .closed:
            logger.info("kafka consumer committed its offsets and left the group")
        case .failed(let error):
            logger.warning("kafka consumer closed with an error", metadata: ["error": "\(error)"])
        case .timedOut:
            logger.error(
                "kafka consumer close timed out; stored offsets may not be committed",
                metadata: ["timeout": "\(timeout)"])
        }
    }

    /// How `close` ended: librdkafka closed (cleanly or with an error), or the timeout came first.
    private enum CloseOutcome: Sendable {
        case closed
        case failed(KafkaError)
        case timedOut
    }

    private func countConsumed(_ batch: KafkaConsumerBatch) {
        var topic = batch[0].topic
        var run = 0
        for message in batch {
            if message.topic != topic {
                KafkaMetrics.consumed[topic].increment(by: run)
                topic = message.topic
                run = 0
            }
            run += 1
        }
        KafkaMetrics.consumed[topic].increment(by: run)
    }

    /// True at most once a second: lag is computed with the poll that follows.
    private func isLagUpdateDue() -> Bool {
        let now = ContinuousClock.now
        return lastLagUpdate.withLock { last in
            guard now - last >= .seconds(1) else { return false }
            last = now
            return true
        }
    }
}
