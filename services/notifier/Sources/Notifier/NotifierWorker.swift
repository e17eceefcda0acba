// The notifier's loop: read anomalies, stored Alertmanager notifications and people's verdicts
// (`feedback`), drop duplicates, fold anomaly bursts into incidents, hand messages to Slack
// delivery, and store each input offset only once the message covering it was accepted by Slack
// (or dead-lettered) and the incident's record written.
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
        var lastPrune = ContinuousClock.now
    }

    let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let delivery: SlackDelivery
    private let book: IncidentBook
    private let store: IncidentStore
    private let silencer: AlertmanagerSilencer?
    private let settings: NotifierSettings
    private let routes: ChannelRoutes
    private let logger: Logger
    private let metrics: NotifierMetrics
    private let state: Mutex<State>
    private let deliveredJobs = Atomic<Int>(0)
    private let messagesRead = Atomic<Int>(0)

    init(
        consumer: KafkaConsumer, producer: KafkaProducer, delivery: SlackDelivery, book: IncidentBook,
        store: IncidentStore, silencer: AlertmanagerSilencer?, settings: NotifierSettings,
        routes: ChannelRoutes, metrics: NotifierMetrics, logger: Logger
    ) {
        (self.consumer, self.producer, self.delivery, self.book, self.store) = (
            consumer, producer, delivery, book, store
        )
        (self.silencer, self.settings, self.routes) = (silencer, settings, routes)
        (self.metrics, self.logger) = (metrics, logger)
        state = Mutex(
            State(
                grouper: AlertGrouper(window: settings.groupWindow),
                eventIDs: RecentKeys(capacity: settings.rememberedIDs),
                notifications: RecentKeys(capacity: 10_000, maxAge: settings.dedupWindow)))
    }

    /// Jobs (Slack messages with everything they cover) finished so far.
    var finishedJobs: Int { deliveredJobs.load(ordering: .relaxed) }

    /// Anomalies, Alertmanager notifications and verdicts read so far (repeats included).
    package var readCount: Int { messagesRead.load(ordering: .relaxed) }

    /// Inputs read whose offsets are not yet storable.
    package var pendingAlerts: Int { state.withLock { $0.ledger.pendingCount } }

    package func run() async throws {
        let (jobs, jobSink) = AsyncStream.makeStream(of: DeliveryJob.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.delivery.run(jobs) { job in self.finished(job.positions, jobs: 1) }
            }
            // Reading and the clock stop at graceful shutdown; delivery goes on.
            await withTaskGroup(of: Void.self) { reading in
                reading.addTask { await self.keepTime(into: jobSink) }
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
        await store.restoreIfNeeded()
        for await batch in consumer.batches.cancelOnGracefulShutdown() {
            // Backpressure: with Slack down, hold at most maxPending alerts; the rest waits in Kafka.
            while pendingAlerts >= settings.maxPending, !Task.isShuttingDownGracefully, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
            }
            // After a rebalance, incidents another replica changed are read back first.
            await store.restoreIfNeeded()
            await process(batch, into: jobs)
        }
    }

    /// Closes windows as they come due, and does what time alone brings (reminders, quiet
    /// bursts that are over, forgetting old incidents).
    private func keepTime(into jobs: AsyncStream<DeliveryJob>.Continuation) async {
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
            let due = state.withLock { state in
                guard ContinuousClock.now - state.lastPrune >= .seconds(1) else { return false }
                state.lastPrune = .now
                return true
            }
            if due {
                let (planned, forgotten) = book.tick()
                for item in planned { hand(job(for: item), to: jobs) }
                await store.delete(forgotten)
                metrics.openIncidents.record(book.openCount)
            }
            metrics.pendingAlerts.record(pendingAlerts)
            try? await Task.sleep(for: tick)
        }
    }

    private func enqueue(_ windows: [ClosedWindow], into jobs: AsyncStream<DeliveryJob>.Continuation) {
        for window in windows {
            let folded = book.fold(window)
            for item in folded.planned { hand(job(for: item), to: jobs) }
            if folded.muted > 0 { metrics.muted.increment(by: folded.muted) }
            finished(folded.settled)
        }
    }

    private func job(for planned: IncidentBook.Planned, sourceTopic: String? = nil) -> DeliveryJob {
        DeliveryJob(
            channel: planned.channel,
            steps: [
                .incident(
                    key: planned.key, reply: planned.reply,
                    snapshot: delivery.rendersSnapshots ? book.incident(planned.key) : nil, first: planned.first)
            ],
            positions: planned.positions, sourceTopic: sourceTopic ?? settings.anomaliesTopic,
            alertCount: planned.alerts)
    }

    private func hand(_ job: DeliveryJob, to jobs: AsyncStream<DeliveryJob>.Continuation) {
        delivery.accepted(job)
        jobs.yield(job)
    }

    /// Sorts one batch into groups, incident changes, verdicts, duplicates and dead letters.
    func process(_ batch: KafkaConsumerBatch, into jobs: AsyncStream<DeliveryJob>.Continuation) async {
        let now = ContinuousClock.now
        messagesRead.add(batch.count, ordering: .relaxed)
        var duplicates: [KafkaPosition] = []
        var deadLetters: [(KafkaPosition, DeadLetter)] = []
        var planned: [DeliveryJob] = []
        var verdicts: [(Feedback, KafkaPosition)] = []
        var anomalies = 0, alerts = 0, duplicateAnomalies = 0, duplicateAlerts = 0, episodesClosed = 0
        /// Read and needing nothing more: their offsets may be stored.
        var settled: [KafkaPosition] = []
        let closed: [ClosedWindow] = state.withLock { state in
            for message in batch {
                let position = KafkaPosition(partition: message.topicPartition, offset: message.offset)
                state.ledger.begin(position)
                guard let value = message.value else {
                    deadLetters.append(
                        (position, deadLetter(message, code: "tombstone", reason: "a message without a value")))
                    continue
                }
                if message.topic == settings.feedbackTopic {
                    do throws(EventError) {
                        verdicts.append((try EventCodec.decodeFeedback(value), position))
                    } catch {
                        deadLetters.append(
                            (position, deadLetter(message, code: error.code.rawValue, reason: error.description)))
                    }
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
                    let channel = routes.channel(forSeverity: notification.severity)
                    if let item = book.take(notification, channel: channel, at: position) {
                        planned.append(job(for: item, sourceTopic: settings.alertmanagerTopic))
                    } else {
                        settled.append(position)
                    }
                    continue
                }
                let scored: ScoredEvent
                do throws(EventError) {
                    switch try EventCodec.decodeAnomaly(value) {
                    case .scored(let event):
                        scored = event
                    case .episodeClosed(let closed):
                        episodesClosed += 1
                        // The episode's last alerts may still wait in a window: they count first.
                        if let pending = state.grouper.take(kind: .reading, subject: closed.deviceID) {
                            let folded = book.fold(pending)
                            planned += folded.planned.map { job(for: $0) }
                            settled += folded.settled
                            if folded.muted > 0 { metrics.muted.increment(by: folded.muted) }
                        }
                        if var item = book.closeEpisode(closed) {
                            item.positions = [position]
                            planned.append(job(for: item))
                        } else {
                            settled.append(position)
                        }
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
        for job in planned { hand(job, to: jobs) }
        enqueue(closed, into: jobs)
        for (feedback, position) in verdicts { await act(on: feedback, at: position, into: jobs) }
        finished(duplicates + settled)
        if !deadLetters.isEmpty, await producer.sendDeadLetters(deadLetters.map(\.1), logger: logger) {
            for (_, letter) in deadLetters { metrics.deadLettered(reason: letter.reasonCode) }
            finished(deadLetters.map(\.0))
        }
    }

    // MARK: People's verdicts

    /// Does what a person asked of an incident this replica owns, and shows it on its message.
    private func act(
        on feedback: Feedback, at position: KafkaPosition, into jobs: AsyncStream<DeliveryJob>.Continuation
    )
        async
    {
        switch book.apply(feedback) {
        case .nothing(let reason):
            metrics.verdicts(feedback.verdict.rawValue, outcome: reason).increment()
            logger.info(
                "verdict needs nothing done",
                metadata: [
                    "incident": "\(feedback.incident)", "verdict": "\(feedback.verdict.rawValue)", "why": "\(reason)",
                ])
            finished([position])
        case .planned(var item):
            metrics.verdicts(feedback.verdict.rawValue, outcome: "applied").increment()
            if feedback.verdict == .silenced, let mute = book.mute(feedback.subject) {
                guard await store.persist(mute) else { return }
            }
            item.positions = [position]
            hand(job(for: item, sourceTopic: settings.feedbackTopic), to: jobs)
        case .silenceInAlertmanager(let incident):
            // Alertmanager may be slow or down: the silence is retried on its own, never in the way of alerts.
            Task { await self.silence(incident, as: feedback, at: position, into: jobs) }
        }
    }

    /// Creates an Alertmanager silence for the incident's group, retrying until it exists; the
    /// person who asked is told (only they see it) when it fails.
    private func silence(
        _ incident: Incident, as feedback: Feedback, at position: KafkaPosition,
        into jobs: AsyncStream<DeliveryJob>.Continuation
    ) async {
        guard let silencer, let notification = incident.alertmanager, let until = feedback.until else {
            metrics.verdicts(feedback.verdict.rawValue, outcome: "no_alertmanager").increment()
            tell(
                feedback, about: incident,
                "Alertron cannot silence this in Alertmanager: the notifier has no ALERTMANAGER_URL. Silence it in "
                    + "Alertmanager itself.", positions: [position], into: jobs)
            return
        }
        let link = incident.message.map {
            "https://slack.com/archives/\($0.channel)/p\($0.ts.replacingOccurrences(of: ".", with: ""))"
        }
        var backoff = Backoff(initial: .seconds(1), maximum: settings.maxRetryDelay, jitter: true)
        var told = false
        while !Task.isCancelled {
            do throws(AlertmanagerSilencer.Failure) {
                let id = try await silencer.silence(
                    notification, until: until, createdBy: feedback.user,
                    comment: "Silenced from Slack by \(feedback.user)" + (link.map { ": \($0)" } ?? ""))
                metrics.silences(outcome: "created").increment()
                metrics.verdicts(feedback.verdict.rawValue, outcome: "applied").increment()
                if var item = book.silencedInAlertmanager(
                    incident.key, id: id, by: feedback.user, at: feedback.ts, until: until)
                {
                    item.positions = [position]
                    hand(job(for: item, sourceTopic: settings.feedbackTopic), to: jobs)
                } else {
                    finished([position])
                }
                return
            } catch {
                metrics.silences(outcome: error.isPermanent ? "refused" : "failed").increment()
                logger.warning("alertmanager silence not created", metadata: ["error": "\(error)"])
                if error.isPermanent {
                    tell(
                        feedback, about: incident, "The silence was not created: \(error)", positions: [position],
                        into: jobs)
                    return
                }
                if !told {
                    told = true
                    tell(
                        feedback, about: incident, "The silence is not created yet: \(error). Retrying.", positions: [],
                        into: jobs)
                }
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// An ephemeral message to whoever clicked, in the incident's channel.
    private func tell(
        _ feedback: Feedback, about incident: Incident, _ text: String, positions: [KafkaPosition],
        into jobs: AsyncStream<DeliveryJob>.Continuation
    ) {
        guard let original = incident.message else {
            finished(positions)
            return
        }
        let message = SlackMessage(
            channel: original.channel, text: text, blocks: [.section(text: mrkdwnEscaped(text), fields: [])],
            user: feedback.user)
        hand(
            DeliveryJob(
                channel: incident.channel, steps: [.ephemeral(message.clamped())], positions: positions,
                sourceTopic: settings.feedbackTopic, alertCount: 0), to: jobs)
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
