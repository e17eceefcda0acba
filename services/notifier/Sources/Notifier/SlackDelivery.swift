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
        /// Posts a message; `thread` remembers its ts under this key for a later resolve.
        case post(SlackMessage, thread: String?)
        /// Updates the message remembered under `thread` and replies in its thread; posts
        /// `fallback` instead when there is none (webhook mode, or it was posted before a restart).
        case resolve(
            thread: String, update: SlackMessage, reply: @Sendable (String) -> SlackMessage, fallback: SlackMessage)
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
        /// Original messages remembered for resolves (a bounded map; the oldest go first).
        var rememberedThreads = 10_000
    }

    private let transport: any SlackTransport
    private let producer: KafkaProducer
    private let configuration: Configuration
    private let logger: Logger
    private let metrics: NotifierMetrics
    private let threads: Mutex<(map: [String: (channel: String, ts: String)], order: [String])> = Mutex(([:], []))
    /// Jobs accepted and not yet finished, by channel, and in all.
    private let queued = Mutex<(byChannel: [String: Int], total: Int)>(([:], 0))

    init(
        transport: any SlackTransport, producer: KafkaProducer, configuration: Configuration, metrics: NotifierMetrics,
        logger: Logger
    ) {
        self.metrics = metrics
        self.transport = transport
        self.producer = producer
        self.configuration = configuration
        self.logger = logger
    }

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
            case .post(let message, let thread):
                guard let sent = await send(message, as: .postMessage, job: job, pace: &pace) else { return false }
                // Slack refers to a message by the channel's ID and its ts, never by the name we posted to.
                if let thread, let sent, let ts = sent.ts {
                    remember(thread, channel: sent.channel ?? message.channel, ts: ts)
                }
            case .resolve(let thread, let update, let reply, let fallback):
                if transport.supportsThreads, let original = original(for: thread) {
                    var update = update
                    update.channel = original.channel
                    update.ts = original.ts
                    guard await send(update, as: .update, job: job, pace: &pace) != nil else { return false }
                    var threadReply = reply(original.ts)
                    threadReply.channel = original.channel
                    guard await send(threadReply, as: .postMessage, job: job, pace: &pace) != nil else {
                        return false
                    }
                } else {
                    guard await send(fallback, as: .postMessage, job: job, pace: &pace) != nil else { return false }
                }
            }
        }
        return true
    }

    /// Sends until Slack takes the message or refuses it for good (then it is dead-lettered).
    /// Returns the message's ts and channel ID (`.some(nil)` without them, or when dead-lettered),
    /// nil when cancelled.
    private func send(
        _ message: SlackMessage, as method: SlackMethod, job: DeliveryJob, pace: inout Pace
    ) async -> (ts: String?, channel: String?)?? {
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
                return .some((ts, channel))
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
            case .permanent(let error):
                logger.error(
                    "slack refused the message for good; dead-lettering it",
                    metadata: [
                        "channel": "\(message.channel)", "error": "\(error)", "method": "\(wireMethod.rawValue)",
                        "alerts": "\(job.alertCount)",
                    ])
                guard await deadLetter(message, error: error, job: job) else { return nil }
                metrics.messages(outcome: "dead_lettered").increment()
                metrics.deadLetters(reason: error).increment()
                return .some(nil)
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

    private func remember(_ key: String, channel: String, ts: String) {
        threads.withLock { threads in
            if threads.map.updateValue((channel, ts), forKey: key) == nil {
                threads.order.append(key)
                if threads.order.count > configuration.rememberedThreads {
                    threads.map[threads.order.removeFirst()] = nil
                }
            }
        }
    }

    private func original(for key: String) -> (channel: String, ts: String)? {
        threads.withLock { $0.map[key] }
    }
}
