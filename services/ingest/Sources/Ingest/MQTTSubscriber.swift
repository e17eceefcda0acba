// Ingest's MQTT way in: a persistent QoS 1 session on the broker. Messages are taken in
// batches; each batch's events (and dead letters for what cannot be read) go to Kafka, and only
// once Kafka has acknowledged all of them are the messages acknowledged to the broker, in the
// order they came. A crash, a lost connection or a Kafka outage therefore loses nothing: the
// broker sends what was not acknowledged again (at least once, so a message may arrive twice).
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
                try await connection.subscribe(filters)
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
            if stopping.load(ordering: .relaxed) { break }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    private func serve(_ connection: MQTTConnection) async {
        let inbox = MQTTInbox()
        self.inbox.withLock { $0 = inbox }
        if stopping.load(ordering: .relaxed) { inbox.close() }
        notReady.withLock { $0 = nil }
        metrics.mqttConnected.record(1)
        await withTaskGroup { group in
            group.addTask {
                for await message in connection.messages { inbox.put(message) }
                inbox.close()
            }
            while true {
                let messages = await inbox.take(upTo: settings.maxEvents)
                let taken = ContinuousClock.now
                guard !messages.isEmpty, await deliver(messages, while: connection) else { break }
                do {
                    try await connection.acknowledge(messages)
                } catch {
                    break
                }
                metrics.mqttBatchDuration.recordInterval(ContinuousClock.now - taken)
            }
            notReady.withLock { $0 = $0 ?? "the MQTT connection closed" }
            await connection.close()
        }
        self.inbox.withLock { $0 = nil }
    }

    /// Sends the batch's events and dead letters until Kafka has all of them; false when the
    /// connection closed or shutdown came first (the broker will send the messages again).
    private func deliver(_ messages: [MQTTPublish], while connection: MQTTConnection) async -> Bool {
        var batch = KafkaProducerBatch(capacity: messages.count)
        var writer = EventWriter(capacity: 256)
        var outcomes: [(filter: String, deadLettered: Bool)] = []
        var readings = 0
        var logs = 0
        for message in messages {
            let filter = filters.first { MQTTTopicFilter.matches($0, topic: message.topic) } ?? "_other"
            do {
                for event in try MQTTPayload.events(
                    topic: message.topic, payload: message.payload, maxEvents: settings.maxEvents)
                {
                    writer.reset()
                    writer.write(event)
                    batch.append(topic: settings.topic, key: event.key, value: writer.bytes)
                    if case .reading = event { readings += 1 } else { logs += 1 }
                }
                outcomes.append((filter, false))
            } catch {
                writer.reset()
                writer.write(Self.deadLetter(message, error))
                batch.append(topic: Topic.deadLetters(of: settings.topic), key: message.topic, value: writer.bytes)
                outcomes.append((filter, true))
                metrics.rejected(error.code)
            }
        }
        var backoff = Duration.milliseconds(500)
        while true {
            do {
                _ = try await producer.send(batch, within: .milliseconds(settings.ackTimeoutMilliseconds))
                break
            } catch {
                logger.warning(
                    "MQTT messages not acknowledged by Kafka; sending again",
                    metadata: ["error": "\(error)", "messages": "\(messages.count)", "retry_in": "\(backoff)"])
                guard !stopping.load(ordering: .relaxed), connection.isActive else { return false }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
        metrics.produced(readings: readings, logs: logs)
        for outcome in outcomes { metrics.mqttMessage(filter: outcome.filter, deadLettered: outcome.deadLettered) }
        return true
    }

    /// Bytes of a refused payload kept in its dead letter, so one stays well under Kafka's message limit.
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

/// Messages received and not yet taken, in order. Bounded by the broker: it sends at most its
/// `max_inflight_messages` QoS 1 messages before they are acknowledged.
final class MQTTInbox: Sendable {
    private typealias Waiter = (continuation: CheckedContinuation<[MQTTPublish], Never>, limit: Int)

    private struct State {
        var messages: [MQTTPublish] = []
        var waiter: Waiter?
        var closed = false

        mutating func take(upTo limit: Int) -> [MQTTPublish] {
            let taken = Array(messages.prefix(limit))
            messages.removeFirst(taken.count)
            return taken
        }
    }

    private let state = Mutex(State())

    func put(_ message: MQTTPublish) {
        let woken = state.withLock { state -> (Waiter, [MQTTPublish])? in
            guard !state.closed else { return nil }
            state.messages.append(message)
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, state.take(upTo: waiter.limit))
        }
        if let (waiter, messages) = woken { waiter.continuation.resume(returning: messages) }
    }

    /// Stops the inbox: what was not taken is left for the broker to send again.
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            state.messages = []
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume(returning: [])
    }

    /// Waits for at least one message and takes up to `limit`; empty once the inbox is closed.
    /// One caller at a time.
    func take(upTo limit: Int) async -> [MQTTPublish] {
        await withCheckedContinuation { continuation in
            let taken = state.withLock { state -> [MQTTPublish]? in
                if state.closed || !state.messages.isEmpty { return state.take(upTo: limit) }
                state.waiter = (continuation, limit)
                return nil
            }
            if let taken { continuation.resume(returning: taken) }
        }
    }
}
