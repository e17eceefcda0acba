// Sends jobs to Slack, one lane per channel: at most one message per channel interval, a 429
// waits its Retry-After, 5xx and network errors retry with exponential backoff and jitter,
// and a permanent error dead-letters the message with Slack's reason. A job is reported done
// only once Slack took it or its dead letter was acknowledged; a job cut short by shutdown is
// never reported, so its offsets stay unstored and it is sent again after a restart.
import Events
import Foundation
import Kafka
import Logging
import Synchronization

/// One unit of work for Slack, and the input positions it covers.
struct DeliveryJob: Sendable {
    enum Step: Sendable {
        /// Shows the incident as it is when its turn comes: posts its message, or updates the
        /// one it has and says `reply` in that message's thread. Webhooks cannot update: the
        /// first message and each reply-worthy change are new messages there.
        /// `snapshot` is the incident when the job was made (only when `rendersSnapshots`): what a
        /// webhook's message shows, since it cannot be changed later; `first` says it is the
        /// incident's first message.
        case incident(key: String, reply: IncidentBook.Reply?, snapshot: Incident?, first: Bool)
        /// A message only `message.user` sees (chat.postEphemeral; not in webhook mode).
        case ephemeral(SlackMessage)
    }

    /// The lane: messages to one channel are paced together.
    var channel: String
    var steps: [Step]
    var positions: [KafkaPosition]
    /// `anomalies` or `alertmanager`: for metrics, and the dead-letter topic `<topic>.dlq`.
    var sourceTopic: String
    var alertCount: Int
}

final class SlackDelivery: Sendable {
    struct Configuration: Sendable {
        var channelInterval: Duration
        var maxRetryDelay: Duration
        /// Whether messages carry buttons (Slack can call back: a signing secret is set).
        var buttons = false
    }

    private let transport: any SlackTransport
    private let producer: KafkaProducer
    private let configuration: Configuration
    private let logger: Logger
    private let metrics: NotifierMetrics
    private let book: IncidentBook
    private let renderer: MessageRenderer
    /// Writes an incident's record to `notifier.incidents`; false when shutdown came first.
    private let persist: @Sendable (String) async -> Bool
    /// Jobs accepted and not yet finished, by channel, and in all.
    private let queued = Mutex<(byChannel: [String: Int], total: Int)>(([:], 0))

    init(
        transport: any SlackTransport, producer: KafkaProducer, configuration: Configuration, book: IncidentBook,
        renderer: MessageRenderer, persist: @escaping @Sendable (String) async -> Bool, metrics: NotifierMetrics,
        logger: Logger
    ) {
        self.book = book
        self.renderer = renderer
        self.persist = persist
        self.metrics = metrics
        self.transport = transport
        self.producer = producer
        self.configuration = configuration
        self.logger = logger
    }

    /// Whether jobs must carry the incident as it was when they were made: a webhook's message
    /// cannot change later, so it shows that state; the Web API renders the incident as it is.
    var rendersSnapshots: Bool { !transport.supportsThreads }

    /// Whether jobs for `channel` are queued or being sent.
    func isSending(to channel: String) -> Bool {
        queued.withLock { ($0.byChannel[channel] ?? 0) > 0 }
    }

    /// Counts a job in as soon as it is handed over (before `run` picks it up), so a channel
    /// is busy from the moment its message exists.
    func accepted(_ job: DeliveryJob) {
        let total = queued.withLock { queued in
            queued.byChannel[job.channel, default: 0] += 1
            queued.total += 1
            return queued.total
        }
        metrics.pendingMessages.record(total)
    }

    /// Delivers jobs until the stream ends and every lane is empty, or the task is cancelled.
    /// `done` is called once per job that was delivered or dead-lettered.
    func run(_ jobs: AsyncStream<DeliveryJob>, done: @escaping @Sendable (DeliveryJob) async -> Void) async {
        await withDiscardingTaskGroup { group in
            var lanes: [String: AsyncStream<DeliveryJob>.Continuation] = [:]
            for await job in jobs {
                if let lane = lanes[job.channel] {
                    lane.yield(job)
                    continue
                }
                let (stream, lane) = AsyncStream.makeStream(of: DeliveryJob.self)
                lanes[job.channel] = lane
                lane.yield(job)
                group.addTask { await self.runLane(stream, done: done) }
            }
            for lane in lanes.values { lane.finish() }
        }
    }

    private func runLane(_ jobs: AsyncStream<DeliveryJob>, done: @escaping @Sendable (DeliveryJob) async -> Void) async
    {
        var pace = Pace(interval: configuration.channelInterval)
        for await job in jobs {
            guard await deliver(job, pace: &pace) else { return }
            let total = queued.withLock { queued in
                queued.byChannel[job.channel, default: 1] -= 1
                queued.total -= 1
                return queued.total
            }
            metrics.pendingMessages.record(total)
            await done(job)
        }
    }

    /// When a channel may get its next message.
    struct Pace {
        let interval: Duration
        var next = ContinuousClock.now

        mutating func wait() async throws {
            try await Task.sleep(until: next, clock: .continuous)
            next = max(next, .now) + interval
        }

        mutating func delay(_ duration: Duration) {
            next = max(next, .now + duration)
        }
    }

    /// Runs every step of a job; false when cancelled before it finished.
    private func deliver(_ job: DeliveryJob, pace: inout Pace) async -> Bool {
        for step in job.steps {
            switch step {
            case .incident(let key, let reply, let snapshot, let first):
                if transport.supportsThreads {
                    guard await show(key, reply: reply, job: job, pace: &pace) else { return false }
                } else if let snapshot, first || reply != nil {
                    // A webhook's message cannot change: the first, then only what is worth a new one.
                    let message = renderer.message(for: snapshot, buttons: false)
                    guard await send(message, as: .postMessage, job: job, pace: &pace) != nil else { return false }
                }
            case .ephemeral(let message):
                guard transport.supportsThreads else { continue }
                guard await send(message, as: .postEphemeral, job: job, pace: &pace) != nil else { return false }
            }
        }
        return true
    }

    /// What Slack says of an update whose message is gone (deleted, or its channel): the
    /// incident's message is posted again instead.
    static let messageGone: Set = ["message_not_found", "cant_update_message", "channel_not_found"]

    /// Posts or updates an incident's message as the incident is now, then writes its record.
    private func show(_ key: String, reply: IncidentBook.Reply?, job: DeliveryJob, pace: inout Pace) async -> Bool {
        guard let incident = book.incident(key) else { return true }
        var message = renderer.message(for: incident, buttons: configuration.buttons)
        if let original = incident.message {
            var update = message
            (update.channel, update.ts) = (original.channel, original.ts)
            switch await send(update, as: .update, job: job, pace: &pace, orRefusal: Self.messageGone) {
            case nil:
                return false
            case .refused(let error):
                // Someone deleted the message (or its channel): the incident gets a new one.
                logger.warning(
                    "the incident's message is gone from Slack; posting it again",
                    metadata: ["incident": "\(key)", "error": "\(error)"])
                metrics.messages(outcome: "reposted").increment()
                message.channel = incident.channel
                guard await post(message, for: key, job: job, pace: &pace) else { return false }
            case .accepted, .deadLettered:
                if let reply {
                    let threadReply = renderer.reply(
                        reply, for: incident, channel: original.channel, threadTS: original.ts)
                    guard await send(threadReply, as: .postMessage, job: job, pace: &pace) != nil else {
                        return false
                    }
                }
            }
        } else {
            guard await post(message, for: key, job: job, pace: &pace) else { return false }
        }
        return await persist(key)
    }

    /// Posts an incident's message and notes it as the incident's; false when cancelled.
    private func post(_ message: SlackMessage, for key: String, job: DeliveryJob, pace: inout Pace) async -> Bool {
        guard let sent = await send(message, as: .postMessage, job: job, pace: &pace) else { return false }
        // Slack refers to a message by the channel's ID and its ts, never by the name we posted to.
        if case .accepted(let ts?, let channel) = sent {
            book.posted(key, message: .init(channel: channel ?? message.channel, ts: ts))
        }
        return true
    }

    /// What became of a message.
    enum Sent {
        /// Slack took it: its ts and channel ID (none from a webhook).
        case accepted(ts: String?, channel: String?)
        /// Slack refused it for good and it went to the dead-letter topic.
        case deadLettered
        /// Slack refused it with one of the errors the caller handles itself.
        case refused(String)
    }

    /// Sends until Slack takes the message or refuses it for good (then it is dead-lettered,
    /// unless the error is one of `refusals`, which the caller handles); nil when cancelled.
    private func send(
        _ message: SlackMessage, as method: SlackMethod, job: DeliveryJob, pace: inout Pace,
        orRefusal refusals: Set<String> = []
    ) async -> Sent? {
        let wireMethod: SlackMethod = transport.supportsThreads ? method : .webhook
        var backoff = Backoff(initial: .seconds(1), maximum: configuration.maxRetryDelay, jitter: true)
        while true {
            do { try await pace.wait() } catch { return nil }
            let started = ContinuousClock.now
            let outcome = await transport.send(message, as: wireMethod)
            metrics.slackLatency(wireMethod).recordInterval(ContinuousClock.now - started)
            switch outcome {
            case .accepted(let ts, let channel):
                metrics.messages(outcome: "delivered").increment()
                return .accepted(ts: ts, channel: channel)
            case .rateLimited(let wait):
                metrics.retries(reason: "rate_limited").increment()
                logger.warning(
                    "slack rate limit; waiting as asked",
                    metadata: ["channel": "\(message.channel)", "retry_after": "\(wait)"])
                pace.delay(wait)
            case .transient(let reason):
                metrics.retries(reason: reason.hasPrefix("network") ? "network" : "server_error").increment()
                // Jittered, so replicas that failed together do not retry together.
                let wait = backoff.next()
                logger.warning(
                    "slack did not take the message; retrying",
                    metadata: ["channel": "\(message.channel)", "reason": "\(reason)", "retry_in": "\(wait)"])
                pace.delay(wait)
            case .permanent(let error) where refusals.contains(error):
                return .refused(error)
            case .permanent(let error):
                logger.error(
                    "slack refused the message for good; dead-lettering it",
                    metadata: [
                        "channel": "\(message.channel)", "error": "\(error)", "method": "\(wireMethod.rawValue)",
                        "alerts": "\(job.alertCount)",
                    ])
                guard await deadLetter(message, error: error, job: job) else { return nil }
                metrics.messages(outcome: "dead_lettered").increment()
                metrics.deadLettered(reason: error)
                return .deadLettered
            }
        }
    }

    /// Writes the refused message, as Slack would have got it, to `<source topic>.dlq`;
    /// retries until the broker acknowledges it. False when cancelled first.
    private func deadLetter(_ message: SlackMessage, error: String, job: DeliveryJob) async -> Bool {
        let first = job.positions.first
        let letter = DeadLetter(
            id: EventID.generate(), ts: Timestamp.now(), reasonCode: "slack_\(error)",
            reason:
                """
                Slack refused the message for \(message.channel) with \(error); it covers \(job.alertCount) \
                alert(s) from \(job.positions.count) message(s) starting at the source position
                """,
            rejectedBy: "notifier", sourceTopic: job.sourceTopic, sourcePartition: first?.partition.partition ?? -1,
            sourceOffset: first?.offset ?? -1, key: Array(message.channel.utf8), payload: message.json())
        return await producer.sendDeadLetters([letter], logger: logger)
    }
}
