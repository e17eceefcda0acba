// Ingest's MQTT way in: a persistent QoS 1 session on the broker. Messages are taken in
// batches; each batch's events (and dead letters for what cannot be read) go to Kafka, and only
// once Kafka has acknowledged all of them are the messages acknowledged to the broker, in the
// order they came. For what devices publish at QoS 1, a crash, a lost connection or a Kafka
// outage therefore loses nothing: the broker sends what was not acknowledged again (at least
// once, so a message may arrive twice). QoS 0 has no acknowledgement: such a message still in
// ingest's hands when it stops is gone, as its publisher chose.
import Events
import Foundation
import Kafka
import Logging
import MQTT
import ServiceLifecycle
import Synchronization
import Telemetry

final class MQTTSubscriber: Service {
    private let configuration: MQTTConfiguration
    private let filters: [String]
    private let producer: any BatchSending
    private let settings: IngestSettings
    private let metrics: IngestMetrics
    private let logger: Logger
    /// Why the session is not up, or nil while it is (readiness).
    private let notReady = Mutex<String?>("not connected yet")
    /// The running session's inbox, closed on graceful shutdown so the session ends after its batch.
    private let inbox = Mutex<MQTTInbox?>(nil)
    private let stopping = Atomic<Bool>(false)

    init(
        configuration: MQTTConfiguration, filters: [String], producer: any BatchSending, settings: IngestSettings,
        metrics: IngestMetrics, logger: Logger
    ) {
        (self.configuration, self.filters, self.producer) = (configuration, filters, producer)
        (self.settings, self.metrics, self.logger) = (settings, metrics, logger)
    }

    /// Readiness: the session is connected and subscribed.
    func checkSession() throws {
        if let reason = notReady.withLock({ $0 }) { throw MQTTError(.connectionClosed, reason) }
    }

    /// Connects, serves the session until it ends, and connects again (1 s doubling to 30 s),
    /// until graceful shutdown; then the batch under way is finished and acknowledged first.
    func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await runSessions()
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
    }

    private func stop() {
        stopping.store(true, ordering: .relaxed)
        inbox.withLock { $0?.close() }
    }

    private func runSessions() async {
        var backoff = Duration.seconds(1)
        while !stopping.load(ordering: .relaxed) {
            do throws(MQTTError) {
                let connection = try await MQTTConnection.connect(configuration)
                do throws(MQTTError) {
                    try await connection.subscribe(filters)
                } catch {
                    await connection.close()
                    throw error
                }
                logger.info(
                    "MQTT session up",
                    metadata: [
                        "broker": "\(configuration.host):\(configuration.port)",
                        "session_present": "\(connection.sessionPresent)",
                    ])
                backoff = .seconds(1)
                await serve(connection)
            } catch {
                notReady.withLock { $0 = error.description }
                logger.warning(
                    "MQTT session failed",
                    metadata: ["error": "\(error.description)", "retry_in": "\(backoff)"])
            }
            metrics.mqttConnected.record(0)
            guard await pause(backoff) else { break }
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    /// Sleeps for `duration` in short slices; false as soon as shutdown has begun.
    private func pause(_ duration: Duration) async -> Bool {
        let until = ContinuousClock.now + duration
        while ContinuousClock.now < until {
            if stopping.load(ordering: .relaxed) { return false }
            try? await Task.sleep(for: min(.milliseconds(100), until - .now))
        }
        return !stopping.load(ordering: .relaxed)
    }

    private func serve(_ connection: MQTTConnection) async {
        let inbox = MQTTInbox()
        self.inbox.withLock { $0 = inbox }
        if stopping.load(ordering: .relaxed) { inbox.close() }
        notReady.withLock { $0 = nil }
        metrics.mqttConnected.record(1)
        await withTaskGroup { group in
            group.addTask {
                // A full inbox stops the reading: TCP then holds the broker back, so what
                // ingest holds stays bounded however far Kafka falls behind.
                for await message in connection.messages {
                    guard !inbox.put(message) else { continue }
                    await connection.read(false)
                    await inbox.waitForRoom()
                    await connection.read(true)
                }
                inbox.close()
            }
            work: while true {
                let messages = await inbox.take(upTo: settings.maxEvents)
                guard !messages.isEmpty else { break }
                // Each part's events fit one Kafka batch; parts go in order, so PUBACKs do too.
                for part in Self.parts(of: messages, maxEvents: settings.maxEvents) {
                    let taken = ContinuousClock.now
                    guard await deliver(part, while: connection) else { break work }
                    do {
                        try await connection.acknowledge(part.map(\.message))
                    } catch {
                        break work
                    }
                    metrics.mqttBatchDuration.recordInterval(ContinuousClock.now - taken)
                }
            }
            notReady.withLock { $0 = $0 ?? "the MQTT connection closed" }
            await connection.close()
        }
        self.inbox.withLock { $0 = nil }
    }

    /// A message and what it says: its events, a reason to dead-letter it, or nothing (retained).
    struct Decoded {
        enum Outcome {
            case events([InboundEvent])
            case deadLetter(APIError)
            /// A retained message: the broker sends a topic's last one again on every
            /// subscription, so it is old news, acknowledged and not produced.
            case retained
        }

        var message: MQTTPublish
        var outcome: Outcome

        var eventCount: Int { if case .events(let events) = outcome { events.count } else { 1 } }
    }

    /// The messages decoded and cut into consecutive parts of at most `maxEvents` events (a
    /// message is never split; one pack holds at most `maxEvents` readings).
    static func parts(of messages: [MQTTPublish], maxEvents: Int, now: Date = Date()) -> [[Decoded]] {
        var parts: [[Decoded]] = []
        var part: [Decoded] = []
        var events = 0
        for message in messages {
            let outcome: Decoded.Outcome
            if message.retain {
                outcome = .retained
            } else {
                do {
                    outcome = .events(
                        try MQTTPayload.events(
                            topic: message.topic, payload: message.payload, maxEvents: maxEvents, now: now))
                } catch {
                    outcome = .deadLetter(error)
                }
            }
            let decoded = Decoded(message: message, outcome: outcome)
            if !part.isEmpty && events + decoded.eventCount > maxEvents {
                parts.append(part)
                (part, events) = ([], 0)
            }
            part.append(decoded)
            events += decoded.eventCount
        }
        if !part.isEmpty { parts.append(part) }
        return parts
    }

    /// Sends the part's events and dead letters until Kafka has all of them; false when the
    /// connection closed or shutdown came first (the broker will send the messages again).
    private func deliver(_ part: [Decoded], while connection: MQTTConnection) async -> Bool {
        var batch = KafkaProducerBatch(capacity: part.count)
        var writer = EventWriter(capacity: 256)
        var readings = 0
        var logs = 0
        for decoded in part {
            switch decoded.outcome {
            case .events(let events):
                for event in events {
                    writer.reset()
                    writer.write(event)
                    batch.append(topic: settings.topic, key: event.key, value: writer.bytes)
                    if case .reading = event { readings += 1 } else { logs += 1 }
                }
            case .deadLetter(let error):
                writer.reset()
                writer.write(Self.deadLetter(decoded.message, error))
                batch.append(
                    topic: Topic.deadLetters(of: settings.topic), key: decoded.message.topic, value: writer.bytes)
            case .retained:
                break
            }
        }
        var backoff = Duration.milliseconds(500)
        while !batch.isEmpty {
            do {
                _ = try await producer.send(batch, within: .milliseconds(settings.ackTimeoutMilliseconds))
                break
            } catch {
                logger.warning(
                    "MQTT messages not acknowledged by Kafka; sending again",
                    metadata: ["error": "\(error)", "messages": "\(part.count)", "retry_in": "\(backoff)"])
                guard connection.isActive, await pause(backoff) else { return false }
                backoff = min(backoff * 2, .seconds(10))
            }
        }
        metrics.produced(readings: readings, logs: logs)
        for decoded in part {
            let filter = filters.first { MQTTTopicFilter.matches($0, topic: decoded.message.topic) } ?? "_other"
            switch decoded.outcome {
            case .events: metrics.mqttMessage(filter: filter, outcome: "produced")
            case .deadLetter(let error):
                metrics.mqttMessage(filter: filter, outcome: "dead_lettered")
                metrics.deadLettered(reason: error.code)
            case .retained: metrics.mqttMessage(filter: filter, outcome: "retained")
            }
        }
        return true
    }

    /// Bytes of a refused payload kept in its dead letter: with its escaped text and base64
    /// copies (at most 6 and 4/3 bytes a byte) it stays under Kafka's 1 MB message limit.
    static let deadLetterPayloadBytes = 64 << 10

    static func deadLetter(_ message: MQTTPublish, _ error: APIError) -> DeadLetter {
        let kept = message.payload.prefix(deadLetterPayloadBytes)
        let cut =
            kept.count < message.payload.count
            ? " (the payload is cut to its first \(kept.count) of \(message.payload.count) bytes)" : ""
        return DeadLetter(
            id: EventID.generate(), ts: Timestamp.now(), reasonCode: error.code,
            reason: "MQTT topic '\(message.topic)': \(error.message)\(cut)", rejectedBy: "ingest",
            sourceTopic: "mqtt:\(message.topic)", sourcePartition: -1, sourceOffset: -1,
            key: Array(message.topic.utf8), payload: Array(kept))
    }
}

/// Messages received and not yet taken, in order. Bounded: `put` says when it holds
/// `capacity` messages or `capacityBytes` of payload, and the reader then waits for room.
final class MQTTInbox: Sendable {
    private typealias Waiter = (continuation: CheckedContinuation<[MQTTPublish], Never>, limit: Int)

    private struct State {
        var messages: [MQTTPublish] = []
        var bytes = 0
        var waiter: Waiter?
        var roomWaiter: CheckedContinuation<Void, Never>?
        var closed = false

        mutating func take(upTo limit: Int) -> [MQTTPublish] {
            let taken = Array(messages.prefix(limit))
            messages.removeFirst(taken.count)
            bytes -= taken.reduce(0) { $0 + $1.payload.count }
            return taken
        }
    }

    let capacity: Int
    let capacityBytes: Int
    private let state = Mutex(State())

    init(capacity: Int = 20_000, capacityBytes: Int = 64 << 20) {
        (self.capacity, self.capacityBytes) = (capacity, capacityBytes)
    }

    /// Adds a message; false when the inbox is now full (the caller waits for room).
    func put(_ message: MQTTPublish) -> Bool {
        let (woken, full) = state.withLock { state -> ((Waiter, [MQTTPublish])?, Bool) in
            guard !state.closed else { return (nil, false) }
            state.messages.append(message)
            state.bytes += message.payload.count
            let full = state.messages.count >= capacity || state.bytes >= capacityBytes
            guard let waiter = state.waiter else { return (nil, full) }
            state.waiter = nil
            return ((waiter, state.take(upTo: waiter.limit)), full)
        }
        if let (waiter, messages) = woken { waiter.continuation.resume(returning: messages) }
        return !full
    }

    /// Returns once the inbox is at most half full, or closed.
    func waitForRoom() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.closed || hasRoom(state) { return true }
                state.roomWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func hasRoom(_ state: State) -> Bool {
        state.messages.count <= capacity / 2 && state.bytes <= capacityBytes / 2
    }

    /// Stops the inbox: what was not taken is left for the broker to send again (QoS 1).
    func close() {
        let (waiter, roomWaiter) = state.withLock { state in
            state.closed = true
            state.messages = []
            state.bytes = 0
            defer { (state.waiter, state.roomWaiter) = (nil, nil) }
            return (state.waiter, state.roomWaiter)
        }
        waiter?.continuation.resume(returning: [])
        roomWaiter?.resume()
    }

    /// Waits for at least one message and takes up to `limit`; empty once the inbox is closed.
    /// One caller at a time.
    func take(upTo limit: Int) async -> [MQTTPublish] {
        let taken = await withCheckedContinuation { continuation in
            let taken = state.withLock { state -> [MQTTPublish]? in
                if state.closed || !state.messages.isEmpty { return state.take(upTo: limit) }
                state.waiter = (continuation, limit)
                return nil
            }
            if let taken { continuation.resume(returning: taken) }
        }
        let roomWaiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard hasRoom(state) else { return nil }
            defer { state.roomWaiter = nil }
            return state.roomWaiter
        }
        roomWaiter?.resume()
        return taken
    }
}
