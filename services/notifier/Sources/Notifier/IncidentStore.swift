// Keeps the incident book durable in the compacted `notifier.incidents` topic: each change to
// an incident's message writes its record (acknowledged by the broker before the inputs it
// covers are marked done), mutes are written when set, and forgotten incidents are deleted
// with tombstones. The whole topic is read back at start and after every rebalance, so a
// restarted notifier, or the replica that takes over a partition, updates the same messages.
import Events
import Foundation
import Kafka
import Logging
import Synchronization

final class IncidentStore: Sendable {
    let topic: String
    private let producer: KafkaProducer
    private let reader: KafkaChangelogReader
    private let book: IncidentBook
    private let metrics: NotifierMetrics
    private let logger: Logger
    /// The book must be read back from the topic before the next batch (at start, after a rebalance).
    private let stale = Atomic<Bool>(true)

    init(
        topic: String, producer: KafkaProducer, reader: KafkaChangelogReader, book: IncidentBook,
        metrics: NotifierMetrics, logger: Logger
    ) {
        (self.topic, self.producer, self.reader, self.book) = (topic, producer, reader, book)
        (self.metrics, self.logger) = (metrics, logger)
    }

    /// For `KafkaConsumer`'s `onRebalance`: partitions came in, whose incidents another replica
    /// may have changed.
    func note(_ event: KafkaRebalanceEvent) {
        if event.kind == .assigned { stale.store(true, ordering: .relaxed) }
    }

    /// Reads the topic back into the book when a rebalance (or the start) asked for it. A
    /// failure is logged and tried again before the next batch.
    func restoreIfNeeded() async {
        guard stale.exchange(false, ordering: .relaxed) else { return }
        let started = ContinuousClock.now
        do {
            let partitions = try await producer.metadata(allTopics: true).topics[topic] ?? 0
            guard partitions > 0 else {
                logger.error(
                    "the incidents topic does not exist: messages cannot be kept across restarts until it is created",
                    metadata: ["topic": "\(topic)"])
                return
            }
            var records: [[UInt8]: [UInt8]] = [:]
            for partition in 0..<partitions {
                for (key, value) in try await reader.latest(topic: topic, partition: Int32(partition)) {
                    records[key] = value
                }
            }
            let restored = book.restore(records)
            metrics.incidentsRestored.increment(by: restored)
            logger.info(
                "incidents read back",
                metadata: ["records": "\(records.count)", "seconds": "\(ContinuousClock.now - started)"])
        } catch {
            stale.store(true, ordering: .relaxed)
            metrics.incidentRestoreFailures.increment()
            logger.warning(
                "incidents not read back; trying again before the next batch", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the incident's record; false when shutdown came first.
    func persist(_ key: String) async -> Bool {
        guard let record = book.record(key) else { return true }
        var batch = KafkaProducerBatch(capacity: 1)
        batch.append(topic: topic, key: key, value: record)
        return await send(batch)
    }

    func persist(_ mute: Mute) async -> Bool {
        var batch = KafkaProducerBatch(capacity: 1)
        batch.append(topic: topic, key: mute.subjectKey, value: mute.record())
        return await send(batch)
    }

    /// Deletes the records of forgotten incidents and expired mutes.
    func delete(_ keys: [String]) async {
        guard !keys.isEmpty else { return }
        var batch = KafkaProducerBatch(capacity: keys.count)
        for key in keys { batch.appendTombstone(topic: topic, key: key) }
        _ = await send(batch)
    }

    private func send(_ batch: KafkaProducerBatch) async -> Bool {
        await producer.sendUntilAcknowledged(batch, backoff: Backoff(initial: .milliseconds(200))) { error, wait in
            self.logger.warning(
                "incident record not acknowledged; retrying", metadata: ["error": "\(error)", "retry_in": "\(wait)"])
        }
    }
}
