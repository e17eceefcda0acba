// The scorer's loop: pull a batch, score it, send everything it caused, and store the input
// offsets only once the broker has acknowledged all of it (at-least-once: a crash repeats
// a batch, it never skips one).
import Events
import Kafka
import Logging
import Metrics
import Models
import ServiceLifecycle
import Synchronization

package final class ScoringWorker: Service, Sendable {
    private let producer: KafkaProducer
    private let models: ModelStore<IsolationForest>
    private let profileModels: ProfileModels
    /// Profiles whose readings came without a model, each logged once (at most 1000 remembered).
    private let profilesWithoutModel = Mutex<Set<String>>([])
    private let logModels: ModelStore<LogClassifier>
    private let settings: ScorerSettings
    private let metrics: ScorerMetrics
    private let logger: Logger
    private let beforeStoringOffsets: @Sendable () async throws -> Void
    private let scoredEvents = Atomic<Int>(0)
    private let partitionChanges: PartitionChanges
    private let stateReader: KafkaChangelogReader?

    /// The consumer this worker pulls from (its assignment shows which partitions it owns).
    let consumer: KafkaConsumer

    /// Events (readings and log lines) this worker has scored and delivered.
    package var scoredCount: Int { scoredEvents.load(ordering: .relaxed) }

    /// `partitionChanges` hears the consumer's rebalances; `stateReader` restores devices from
    /// `settings.stateTopic` (nil when it is off).
    package init(
        consumer: KafkaConsumer, producer: KafkaProducer, models: ModelStore<IsolationForest>,
        profileModels: ProfileModels, logModels: ModelStore<LogClassifier>,
        settings: ScorerSettings, metrics: ScorerMetrics, logger: Logger,
        partitionChanges: PartitionChanges, stateReader: KafkaChangelogReader?,
        beforeStoringOffsets: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.beforeStoringOffsets = beforeStoringOffsets
        self.partitionChanges = partitionChanges
        self.stateReader = stateReader
        self.consumer = consumer
        self.producer = producer
        self.models = models
        self.profileModels = profileModels
        self.logModels = logModels
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    /// A consumed batch, what scoring it came to, and the delivery of its output.
    struct InFlight: Sendable {
        var batch: KafkaConsumerBatch
        var outcome: BatchScorer.Outcome
        var delivery: Task<Bool, Never>
    }

    package func run() async throws {
        try await runInOrderPipeline(
            depth: settings.batchesInFlight,
            produce: { submit in
                var scorer = BatchScorer(settings: self.settings)
                for await batch in self.consumer.batches.cancelOnGracefulShutdown() {
                    guard let models = await self.servableModels() else { return }
                    scorer.forget(partitions: self.partitionChanges.take())
                    let owned = self.partitionChanges.owned
                    for partition in scorer.partitionsToRestore(in: batch, inputPartitionsOwned: owned) {
                        guard await self.restore(partition, into: &scorer) else { return }
                    }
                    var output = KafkaProducerBatch(capacity: batch.count * 2)
                    let outcome = scorer.score(batch, models: models, scoredAt: Timestamp.now(), into: &output)
                    let delivery = Task { [output] in await self.deliver(output) }
                    guard await submit(InFlight(batch: batch, outcome: outcome, delivery: delivery)) else {
                        delivery.cancel()
                        return
                    }
                }
            },
            settle: { entry in
                // Not delivered means shutting down: leave the offsets unstored, so the batch
                // is scored again by whoever owns the partitions next. Cancelling the worker
                // cancels the delivery too (it is an unstructured task of its own).
                let delivered = await withTaskCancellationHandler {
                    await entry.delivery.value
                } onCancel: {
                    entry.delivery.cancel()
                }
                guard delivered else { return false }
                // Counted once delivered, so a batch scored twice after a crash counts once here.
                self.metrics.record(entry.outcome, batchSize: entry.batch.count)
                self.noteProfilesWithoutModel(entry.outcome.withoutModel)
                self.logFeedback(entry.outcome.feedback)
                self.scoredEvents.add(
                    entry.outcome.scored + entry.outcome.criticalLogs + entry.outcome.routineLogs, ordering: .relaxed)
                try await self.beforeStoringOffsets()
                do {
                    try self.consumer.storeOffsets(for: entry.batch)
                } catch {
                    self.logger.info(
                        """
                        offsets not stored (usually: a rebalance moved the partitions; their new owner scores \
                        them again)
                        """,
                        metadata: ["error": "\(error)"])
                }
                return true
            })
    }

    /// The current models once both are loaded (a sensor model that fits readings, and a log
    /// model); nil if shutdown comes first. Scoring waits rather than skip either kind of
    /// event: a partition holds both, in order.
    private func servableModels() async -> BatchScorer.Models? {
        var warned = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let model = models.current, let logModel = logModels.current {
                var sensors = profileModels.current
                sensors[Reading.defaultProfile] = model
                return BatchScorer.Models(sensors: sensors, log: logModel)
            } else if !warned {
                logger.warning(
                    "waiting for models before scoring",
                    metadata: [
                        "sensor_model": "\(models.current?.version ?? models.lastError ?? "none loaded")",
                        "log_model": "\(logModels.current?.version ?? logModels.lastError ?? "none loaded")",
                    ])
            }
            warned = true
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// Restores the devices of input `partition` from the state topic, trying again until it
    /// succeeds: scoring its readings cold would page for every device that was mid-episode.
    /// False when shutdown comes first.
    private func restore(_ partition: Int32, into scorer: inout BatchScorer) async -> Bool {
        guard let stateReader else { return true }
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(30))
        while !Self.stopping {
            let start = ContinuousClock.now
            do {
                let records = try await stateReader.latest(topic: settings.stateTopic, partition: partition)
                let (restored, discarded) = scorer.restore(partition: partition, records: records)
                metrics.devicesSeen(
                    records.keys.lazy.filter { BatchScorer.logSource(ofStateKey: $0) == nil }
                        .map { String(decoding: $0, as: UTF8.self) })
                metrics.stateRestored(devices: restored, discarded: discarded, took: ContinuousClock.now - start)
                logger.info(
                    "devices and log sources restored from the state topic",
                    metadata: [
                        "partition": "\(settings.stateTopic)[\(partition)]", "devices": "\(restored)",
                        "discarded": "\(discarded)", "took": "\(ContinuousClock.now - start)",
                    ])
                return true
            } catch {
                metrics.stateRestoreFailed()
                let wait = backoff.next()
                logger.error(
                    """
                    devices of this partition not restored; scoring waits rather than start them cold (does the \
                    state topic exist, with at least as many partitions as the input topic?)
                    """,
                    metadata: [
                        "partition": "\(settings.stateTopic)[\(partition)]", "error": "\(error)", "retry_in": "\(wait)",
                    ])
                try? await Task.sleep(for: wait)
            }
        }
        return false
    }

    /// Logs each profile that has no model the first time its readings come (they are judged by
    /// their devices' own baselines alone, and say so with `model` device_baseline@1 throughout).
    private func noteProfilesWithoutModel(_ counts: [String: Int]) {
        guard !counts.isEmpty else { return }
        metrics.readingsWithoutModel(counts.values.reduce(0, +))
        let new = profilesWithoutModel.withLock { seen in
            let new = counts.keys.filter { !seen.contains($0) }
            if seen.count < 1000 { seen.formUnion(new) }
            return new
        }
        for profile in new.sorted() {
            logger.warning(
                "readings of a profile without a model: judged by each device's own baseline alone, nothing flagged while it learns",
                metadata: ["profile": "\(profile)"])
        }
    }

    /// Logs what each verdict did (once its batch was delivered): people's clicks are rare, and
    /// each deserves a line. Verdicts the scorer does not act on are debug.
    private func logFeedback(_ notes: [BatchScorer.FeedbackNote]) {
        for note in notes {
            var metadata: Logger.Metadata = [
                "feedback_id": "\(note.feedback.id)", "subject": "\(note.feedback.subject.key)",
                "verdict": "\(note.feedback.verdict.rawValue)", "episode": "\(note.feedback.episodeID ?? "none")",
                "user": "\(note.feedback.user)", "outcome": "\(note.result.rawValue)",
            ]
            switch note.result {
            case .applied:
                metadata["widened"] = "\(note.widened.isEmpty ? "nothing" : note.widened.joined(separator: ","))"
                if case .logSource = note.feedback.subject {
                    logger.info(
                        "not an anomaly, on a log incident: its templates are routine for the source from now on",
                        metadata: metadata)
                    continue
                }
                logger.info(
                    """
                    not an anomaly: the device's tests that fired in the episode are widened (nothing when the \
                    episode was judged by the fleet model while the device learned, or was already accepted)
                    """,
                    metadata: metadata)
            case .unknownDevice:
                logger.info(
                    """
                    not an anomaly, on a device this replica does not hold (never seen; or another replica's, \
                    when feedback has other partitions than readings or the group another assignor): nothing learned
                    """,
                    metadata: metadata)
            case .staleEpisode:
                metadata["latest_episode"] = "\(note.latestEpisode ?? "none")"
                logger.info(
                    "not an anomaly, on an episode that is not the device's latest: nothing learned",
                    metadata: metadata)
            case .unknownTemplate:
                metadata["templates"] = "\(note.feedback.templates.joined(separator: ","))"
                logger.info(
                    """
                    not an anomaly, on a log incident none of whose templates this replica holds (forgotten, \
                    another replica's, or none named): nothing learned
                    """,
                    metadata: metadata)
            case .ignored:
                logger.debug("a verdict that is not the scorer's to act on", metadata: metadata)
            }
        }
    }

    /// Sends until the broker acknowledges everything, backing off between tries. Returns
    /// false when shutdown or cancellation comes first, or the producer has closed.
    private func deliver(_ output: KafkaProducerBatch) async -> Bool {
        // A non-retriable failure (a missing topic, no permission) still gets retried:
        // skipping the batch would lose it. It is logged loudly to be fixed.
        await producer.sendUntilAcknowledged(output, giveUp: { Self.stopping }) { error, wait in
            logger.log(
                level: (error as? KafkaError)?.isRetriable ?? true ? .warning : .critical,
                "scored output not delivered; sending the batch again",
                metadata: ["error": "\(error)", "retry_in": "\(wait)"])
            metrics.produceRetried()
        }
    }

    private static var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }
}

/// Input partitions a rebalance moved since the worker last looked: their devices' memory is
/// dropped and restored from the state topic before their next reading is scored. Also which
/// input partitions this replica owns now: a verdict from the feedback topic may restore its
/// partition's devices only then.
package final class PartitionChanges: Sendable {
    private let topic: String
    private let partitions = Mutex<(moved: Set<Int32>, owned: Set<Int32>)>(([], []))

    package init(topic: String) { self.topic = topic }

    /// For `KafkaConsumer`'s `onRebalance`: an assignment, a revocation or a failure.
    package func note(_ event: KafkaRebalanceEvent) {
        let changed = event.partitions.filter { $0.topic == topic }.map(\.partition)
        partitions.withLock { partitions in
            partitions.moved.formUnion(changed)
            switch event.kind {
            case .assigned: partitions.owned.formUnion(changed)
            case .revoked: partitions.owned.subtract(changed)
            // The consumer drops its whole assignment when the group cannot be joined.
            case .failed: partitions.owned.removeAll()
            }
        }
    }

    /// The partitions moved since the last call.
    func take() -> Set<Int32> {
        partitions.withLock { partitions in
            defer { partitions.moved.removeAll() }
            return partitions.moved
        }
    }

    /// The input partitions assigned to this replica now.
    var owned: Set<Int32> { partitions.withLock { $0.owned } }
}
