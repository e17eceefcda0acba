// The notifier's loop: read anomalies and stored Alertmanager notifications, drop duplicates,
// fold anomaly bursts into groups, hand messages to Slack delivery, and store each input
// offset only once the message covering it was accepted by Slack or dead-lettered.
import Events
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

package final class NotifierWorker: Service, Sendable {
    private struct State {
        var ledger = OffsetLedger()
        var grouper: AlertGrouper
        var eventIDs: RecentKeys
        var notifications: RecentKeys
    }

    let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let delivery: SlackDelivery
    private let renderer: MessageRenderer
    private let settings: NotifierSettings
    private let routes: ChannelRoutes
    private let logger: Logger
    private let metrics: NotifierMetrics
    private let state: Mutex<State>
    private let deliveredJobs = Atomic<Int>(0)
    private let messagesRead = Atomic<Int>(0)

    init(
        consumer: KafkaConsumer, producer: KafkaProducer, delivery: SlackDelivery, settings: NotifierSettings,
        routes: ChannelRoutes, metrics: NotifierMetrics, logger: Logger
    ) {
        self.metrics = metrics
        self.consumer = consumer
        self.producer = producer
        self.delivery = delivery
        self.settings = settings
        self.routes = routes
        self.logger = logger
        renderer = MessageRenderer(templates: settings.templates)
        state = Mutex(
            State(
                grouper: AlertGrouper(window: settings.groupWindow, digestThreshold: settings.digestThreshold),
                eventIDs: RecentKeys(capacity: settings.rememberedIDs),
                notifications: RecentKeys(capacity: 10_000, maxAge: settings.dedupWindow)))
    }

    /// Jobs (Slack messages with everything they cover) finished so far.
    var finishedJobs: Int { deliveredJobs.load(ordering: .relaxed) }

    /// Anomalies and Alertmanager notifications read so far (repeats included).
    package var readCount: Int { messagesRead.load(ordering: .relaxed) }

    /// Alerts read whose offsets are not yet storable.
    package var pendingAlerts: Int { state.withLock { $0.ledger.pendingCount } }

    package func run() async throws {
        let (jobs, jobSink) = AsyncStream.makeStream(of: DeliveryJob.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.delivery.run(jobs) { job in self.finished(job.positions, jobs: 1) }
            }
            // Reading and the window clock stop at graceful shutdown; delivery goes on.
            await withTaskGroup(of: Void.self) { reading in
                reading.addTask { await self.closeWindows(into: jobSink) }
                await self.read(into: jobSink)
                reading.cancelAll()
            }
            // Whatever is still grouped goes out now instead of waiting for its window.
            self.enqueue(self.state.withLock { $0.grouper.takeClosed(now: .now, closeAll: true) }, into: jobSink)
            jobSink.finish()
            let drainTimeout = settings.drainTimeout
            group.addTask { try? await Task.sleep(for: drainTimeout) }
            // The first to end is delivery (all sent) or the drain deadline: stop the other.
            await group.next()
            group.cancelAll()
        }
        let left = pendingAlerts
        if left > 0 {
            logger.warning(
                "stopping with alerts not yet delivered; their offsets stay unstored and they are sent after a restart",
                metadata: ["alerts": "\(left)"])
        }
    }

    private func read(into jobs: AsyncStream<DeliveryJob>.Continuation) async {
        for await batch in consumer.batches.cancelOnGracefulShutdown() {
            // Backpressure: with Slack down, hold at most maxPending alerts; the rest waits in Kafka.
            while pendingAlerts >= settings.maxPending, !Task.isShuttingDownGracefully, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
            }
            await process(batch, into: jobs)
        }
    }

    private func closeWindows(into jobs: AsyncStream<DeliveryJob>.Continuation) async {
        let tick =
            settings.groupWindow == .zero
            ? Duration.milliseconds(10) : min(max(settings.groupWindow / 10, .milliseconds(20)), .milliseconds(250))
        while !Task.isCancelled {
            // A channel still sending its last messages keeps its window open: the alerts
            // meanwhile fold into its next messages instead of queueing behind Slack's pace.
            let delivery = self.delivery
            enqueue(
                state.withLock { $0.grouper.takeClosed(now: .now, holding: { delivery.isSending(to: $0) }) }, into: jobs
            )
            metrics.pendingAlerts.record(pendingAlerts)
            try? await Task.sleep(for: tick)
        }
    }

    private func enqueue(_ notifications: [GroupedNotification], into jobs: AsyncStream<DeliveryJob>.Continuation) {
        for notification in notifications {
            let message = renderer.message(for: notification)
            hand(
                DeliveryJob(
                    channel: message.channel, steps: [.post(message, thread: nil)], positions: notification.positions,
                    sourceTopic: settings.anomaliesTopic, alertCount: notification.alertCount), to: jobs)
        }
    }

    private func hand(_ job: DeliveryJob, to jobs: AsyncStream<DeliveryJob>.Continuation) {
        delivery.accepted(job)
        jobs.yield(job)
    }

    /// Sorts one batch into groups, Alertmanager jobs, duplicates and dead letters.
    func process(_ batch: KafkaConsumerBatch, into jobs: AsyncStream<DeliveryJob>.Continuation) async {
        let now = ContinuousClock.now
        messagesRead.add(batch.count, ordering: .relaxed)
        var duplicates: [KafkaPosition] = []
        var deadLetters: [(KafkaPosition, DeadLetter)] = []
        var alertmanagerJobs: [DeliveryJob] = []
        var anomalies = 0, alerts = 0, duplicateAnomalies = 0, duplicateAlerts = 0, episodesClosed = 0
        /// Read and needing nothing more: their offsets may be stored.
        var settled: [KafkaPosition] = []
        let closed: [GroupedNotification] = state.withLock { state in
            for message in batch {
                let position = KafkaPosition(partition: message.topicPartition, offset: message.offset)
                state.ledger.begin(position)
                guard let value = message.value else {
                    deadLetters.append(
                        (position, deadLetter(message, code: "tombstone", reason: "a message without a value")))
                    continue
                }
                if message.topic == settings.alertmanagerTopic {
                    let notification: AlertmanagerNotification
                    do throws(AlertmanagerNotification.Invalid) {
                        notification = try AlertmanagerNotification.decode(value)
                    } catch {
                        deadLetters.append(
                            (position, deadLetter(message, code: "invalid_payload", reason: error.description)))
                        continue
                    }
                    alerts += notification.alerts.count
                    guard state.notifications.insert(notification.deduplicationKey, now: now) else {
                        duplicateAlerts += notification.alerts.count
                        duplicates.append(position)
                        continue
                    }
                    alertmanagerJobs.append(job(for: notification, at: position))
                } else {
                    let scored: ScoredEvent
                    do throws(EventError) {
                        switch try EventCodec.decodeAnomaly(value) {
                        case .scored(let event):
                            scored = event
                        case .episodeClosed:
                            // Nothing to send yet: the message of an episode is not tracked.
                            episodesClosed += 1
                            settled.append(position)
                            continue
                        }
                    } catch {
                        deadLetters.append(
                            (position, deadLetter(message, code: error.code.rawValue, reason: error.description)))
                        continue
                    }
                    anomalies += 1
                    guard state.eventIDs.insert(scored.event.id, now: now) else {
                        duplicateAnomalies += 1
                        duplicates.append(position)
                        continue
                    }
                    state.grouper.add(
                        AnomalyAlert(scored), channel: routes.channel(forSeverity: scored.severity.rawValue),
                        at: position, now: now)
                }
            }
            // With no window, a batch is its own window.
            let delivery = self.delivery
            return settings.groupWindow == .zero
                ? state.grouper.takeClosed(now: now, holding: { delivery.isSending(to: $0) }) : []
        }
        if anomalies > 0 { metrics.received(source: "anomalies").increment(by: anomalies) }
        if alerts > 0 { metrics.received(source: "alertmanager").increment(by: alerts) }
        if duplicateAnomalies > 0 { metrics.duplicates(source: "anomalies").increment(by: duplicateAnomalies) }
        if duplicateAlerts > 0 { metrics.duplicates(source: "alertmanager").increment(by: duplicateAlerts) }
        if episodesClosed > 0 { metrics.episodesClosed.increment(by: episodesClosed) }
        for job in alertmanagerJobs { hand(job, to: jobs) }
        enqueue(closed, into: jobs)
        finished(duplicates + settled)
        if !deadLetters.isEmpty, await producer.sendDeadLetters(deadLetters.map(\.1), logger: logger) {
            for (_, letter) in deadLetters { metrics.deadLetters(reason: letter.reasonCode).increment() }
            finished(deadLetters.map(\.0))
        }
    }

    private func job(for notification: AlertmanagerNotification, at position: KafkaPosition) -> DeliveryJob {
        let channel = routes.channel(forSeverity: notification.severity)
        let message = renderer.message(for: notification, channel: channel)
        let step: DeliveryJob.Step
        if notification.isResolved {
            let renderer = self.renderer
            step = .resolve(
                thread: notification.groupKey, update: message,
                reply: { ts in renderer.resolvedReply(for: notification, channel: channel, threadTS: ts) },
                fallback: message)
        } else {
            step = .post(message, thread: notification.groupKey)
        }
        return DeliveryJob(
            channel: channel, steps: [step], positions: [position], sourceTopic: settings.alertmanagerTopic,
            alertCount: notification.alerts.count)
    }

    private func deadLetter(_ message: KafkaConsumerMessage, code: String, reason: String) -> DeadLetter {
        DeadLetter(
            id: EventID.generate(), ts: Timestamp.now(), reasonCode: code, reason: reason, rejectedBy: "notifier",
            sourceTopic: message.topic, sourcePartition: message.partition, sourceOffset: message.offset,
            key: message.key.map(Array.init), payload: Array(message.value ?? []))
    }

    /// Marks input messages done and stores the offsets that became storable.
    private func finished(_ positions: [KafkaPosition], jobs: Int = 0) {
        guard !positions.isEmpty || jobs > 0 else { return }
        let storable = state.withLock { $0.ledger.finish(positions) }
        if jobs > 0 { deliveredJobs.add(jobs, ordering: .relaxed) }
        guard !storable.isEmpty else { return }
        do {
            try consumer.storeOffsets(storable)
        } catch {
            logger.info(
                "offsets not stored (usually: a rebalance moved the partitions; their new owner reads them again)",
                metadata: ["error": "\(error)"])
        }
    }
}

extension KafkaProducer {
    /// Writes dead letters to `<source topic>.dlq`, keyed as their messages were, retrying
    /// until the broker acknowledges them; false when shutdown came first.
    func sendDeadLetters(_ letters: [DeadLetter], logger: Logger) async -> Bool {
        var batch = KafkaProducerBatch(capacity: letters.count)
        for letter in letters {
            batch.append(
                topic: Topic.deadLetters(of: letter.sourceTopic), key: letter.key, value: EventWriter.encode(letter))
        }
        return await sendUntilAcknowledged(batch, backoff: Backoff(initial: .milliseconds(200))) { error, wait in
            logger.warning(
                "dead letters not acknowledged; retrying", metadata: ["error": "\(error)", "retry_in": "\(wait)"])
        }
    }
}
