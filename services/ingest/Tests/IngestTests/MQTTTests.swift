// Ingest's MQTT way in: how a topic and payload become events (pure), and the subscriber
// against Debian's real mosquitto: nothing is acknowledged to the broker while Kafka refuses
// the events, so a Kafka outage loses no message.
import AlertronTesting
import Events
import Foundation
import Kafka
import Logging
import MetricsTestKit
import MQTT
import ServiceLifecycle
import Synchronization
import Telemetry
import Testing
@testable import Ingest

@Suite struct MQTTPayloadTests {
    static let now = Date(timeIntervalSince1970: 1_733_600_000)

    static func events(_ topic: String, _ payload: String) throws(APIError) -> [InboundEvent] {
        try MQTTPayload.events(topic: topic, payload: Array(payload.utf8), maxEvents: 100, now: now)
    }

    static func reading(_ topic: String, _ payload: String) throws -> Reading {
        let events = try events(topic, payload)
        guard events.count == 1, case .reading(let reading) = events[0] else { throw TimedOut(what: "one reading") }
        return reading
    }

    @Test func plainChannelsTakeTheDeviceFromTheTopic() throws {
        let reading = try Self.reading("devices/pump-7/readings", #"{"flow": 3.5, "temperature": 61}"#)
        #expect(reading.deviceID == "pump-7" && reading.ts == "2024-12-07T19:33:20.000Z")
        #expect(Set(reading.channels.map(\.name)) == ["flow", "temperature"])
    }

    @Test func alertronsReadingKeepsItsOwnDeviceAndIdOrTakesTheTopics() throws {
        let own = try Self.reading(
            "site/a/devices/x/readings",
            #"{"id": "r-1", "device_id": "pump-9", "profile": "pump", "values": {"flow": 1}}"#)
        #expect(own.deviceID == "pump-9" && own.id == "r-1" && own.profile == "pump")
        let topics = try Self.reading(
            "devices/pump-3/readings", #"{"values": {"flow": 2}, "ts": "2024-01-01T00:00:00Z"}"#)
        #expect(topics.deviceID == "pump-3" && topics.ts == "2024-01-01T00:00:00Z")
    }

    @Test func aSenMLPackIsReadWithTheTopicsDeviceWhenItHasNoBaseName() throws {
        let events = try Self.events(
            "devices/pump-2/readings", #"[{"bt": 1733600000, "n": "flow", "v": 1}, {"n": "flow", "t": 1, "v": 2}]"#)
        #expect(events.count == 2)
        guard case .reading(let first) = events[0] else { throw TimedOut(what: "a reading") }
        #expect(first.deviceID == "pump-2")
    }

    @Test func aLogTopicTakesTextOrAlertronsLogEvent() throws {
        let text = try Self.events("devices/gw-1/logs", "disk /dev/sda1 failing\r\n")
        #expect(
            text.first.map { if case .log(let log) = $0 { log.source + "|" + log.message } else { "" } }
                == "gw-1|disk /dev/sda1 failing")
        let json = try Self.events("devices/gw-1/logs", #"{"message": "sshd: failed login", "level": "warning"}"#)
        guard case .log(let log) = json.first else { throw TimedOut(what: "a log") }
        #expect(log.source == "gw-1" && log.level == "warning")
    }

    @Test(arguments: [
        ("devices/pump-1/status", "{}", "unknown_topic"),
        ("readings", "{}", "unknown_topic"),
        ("devices//readings", #"{"flow": 1}"#, "invalid_value"),
        ("devices/p/readings", "", "empty"),
        ("devices/p/readings", "flow=3", "malformed_json"),
        ("devices/p/readings", #"{"flow": "high"}"#, "wrong_type"),
        ("devices/p/readings", #"{"flow": 1e999}"#, "missing_field"),
        ("devices/p/readings", #"{"t": 1},"device_id":"other","id":"forged"}"#, "malformed_json"),
        ("devices/p/readings", #"{"Flow Rate": 1}"#, "invalid_value"),
        ("devices/p/readings", "[1, 2]", "wrong_type"),
        ("devices/p/logs", String(repeating: "x", count: LogEvent.maxMessageBytes + 1), "too_large"),
    ])
    func whatCannotBeReadIsRefusedWithAReason(topic: String, payload: String, code: String) {
        #expect {
            _ = try Self.events(topic, payload)
        } throws: { error in
            (error as? APIError)?.code == code
        }
    }

    @Test func retainedMessagesAreSkippedAndPartsHoldAtMostMaxEventsEvents() {
        let pack =
            #"[{"bn": "p/", "n": "a", "v": 1}, {"n": "a", "t": 1, "v": 2}, {"n": "a", "t": 2, "v": 3}, {"n": "a", "t": 3, "v": 4}]"#
        let messages =
            (1...3).map { MQTTPublish(topic: "devices/p\($0)/readings", payload: Array(pack.utf8)) } + [
                MQTTPublish(topic: "devices/p/readings", payload: Array(#"{"a": 1}"#.utf8), retain: true),
                MQTTPublish(topic: "devices/p/readings", payload: Array("nope".utf8)),
            ]
        let parts = MQTTSubscriber.parts(of: messages, maxEvents: 10, now: Self.now)
        #expect(parts.map { $0.map(\.eventCount) } == [[4, 4], [4, 1, 1]])
        #expect(parts.flatMap { $0 }.map(\.message) == messages, "every message, in order")
        guard case .retained = parts[1][1].outcome, case .deadLetter(let error) = parts[1][2].outcome else {
            Issue.record("the retained message is skipped and the unreadable one dead-lettered")
            return
        }
        #expect(error.code == "malformed_json")
    }

    @Test func aFullInboxSaysSoAndLetsTheReaderOnOnceHalfIsTaken() async {
        let inbox = MQTTInbox(capacity: 4)
        let message = MQTTPublish(topic: "devices/p/readings", payload: [0x7B, 0x7D])
        #expect((1...3).map { _ in inbox.put(message) } == [true, true, true])
        #expect(inbox.put(message) == false, "the fourth fills it")
        let waiting = Task { await inbox.waitForRoom() }
        _ = await inbox.take(upTo: 2)
        await waiting.value
        inbox.close()
        await inbox.waitForRoom()
        #expect(await inbox.take(upTo: 10).isEmpty, "closed: nothing more")
    }

    @Test func aDeadLetterNamesTheTopicAndKeepsAtMost64KiBOfThePayload() {
        let message = MQTTPublish(topic: "devices/p/readings", payload: Array(repeating: 0x41, count: 100_000))
        let letter = MQTTSubscriber.deadLetter(message, .badRequest("malformed_json", "not JSON"))
        #expect(letter.reason.hasPrefix("MQTT topic 'devices/p/readings': not JSON (the payload is cut"))
        #expect(letter.sourceTopic == "mqtt:devices/p/readings" && letter.payload.count == 65_536)
    }
}

/// A broker that refuses the first `failures` batches as if Kafka were down, then stores them.
final class FlakyKafka: BatchSending {
    let failures: Int
    let batches = Mutex<(attempts: Int, stored: [[UInt8]])>((0, []))

    init(failures: Int) { self.failures = failures }

    func send(_ batch: KafkaProducerBatch, within deadline: Duration) async throws -> [KafkaDeliveryReport] {
        let refuse = batches.withLock { state in
            state.attempts += 1
            return state.attempts <= failures
        }
        if refuse { throw KafkaError(.deliveryFailed, "the broker is down", isRetriable: true) }
        batches.withLock { $0.stored += (0..<batch.count).map { batch.message(at: $0).value } }
        return []
    }

    var queuedMessages: Int { 0 }
}

@Suite(.ownThread, .timeLimit(.minutes(2))) struct MQTTSubscriberTests {
    static func subscriber(_ settings: IngestSettings, _ kafka: FlakyKafka) throws -> MQTTSubscriber {
        MQTTSubscriber(
            configuration: try #require(try settings.mqttConfiguration()), filters: settings.mqttTopics,
            producer: kafka, settings: settings, metrics: IngestMetrics(MetricHandles(factory: TestMetrics())),
            logger: testLogger("mqtt"))
    }

    /// Runs `subscriber` until `done` holds, then stops it as a SIGTERM would.
    static func run(
        _ subscriber: MQTTSubscriber, until what: String, _ done: @escaping @Sendable () -> Bool
    )
        async throws
    {
        try await withThrowingTaskGroup { group in
            group.addTask { try await subscriber.run() }
            try await eventually(20, what) { done() }
            group.cancelAll()
        }
    }

    @Test func whatKafkaNeverTookIsSentAgainToTheNextSessionAndWhatItTookIsNot() async throws {
        let broker = try await Mosquitto()
        defer { broker.stop() }
        var settings = IngestSettings()
        settings.mqtt.url = broker.url
        settings.mqttClientID = "ingest-test"
        let publisher = try await MQTTConnection.connect(try MQTTConfiguration(url: broker.url, clientID: "fleet"))

        // Kafka is down for the whole of the first session: ingest retries, and stops without
        // having acknowledged anything.
        let down = FlakyKafka(failures: .max)
        let first = try Self.subscriber(settings, down)
        try await withThrowingTaskGroup { group in
            group.addTask { try await first.run() }
            try await eventually(10, "the session") { (try? first.checkSession()) != nil }
            for n in 1...3 {
                try await publisher.publish(
                    MQTTPublish(topic: "devices/d-\(n)/readings", payload: Array(#"{"flow": \#(n)}"#.utf8)))
            }
            try await eventually(20, "two attempts to send") { down.batches.withLock { $0.attempts } >= 2 }
            group.cancelAll()
        }

        // The next session, Kafka up after one more refusal: the broker sends the three again.
        let up = FlakyKafka(failures: 1)
        try await Self.run(try Self.subscriber(settings, up), until: "Kafka to store the three readings") {
            up.batches.withLock { $0.stored.count } >= 3
        }
        let stored = up.batches.withLock { $0.stored }.map { String(decoding: $0, as: UTF8.self) }
        #expect(stored.count == 3 && stored.allSatisfy { $0.contains(#""device_id":"d-"#) })

        // They were acknowledged this time: a third session gets nothing before a new message.
        try await publisher.publish(MQTTPublish(topic: "devices/marker/readings", payload: Array("{}".utf8)))
        let last = FlakyKafka(failures: 0)
        try await Self.run(try Self.subscriber(settings, last), until: "the marker") {
            !last.batches.withLock { $0.stored }.isEmpty
        }
        let after = last.batches.withLock { $0.stored }
        #expect(after.count == 1, "only the marker's dead letter, nothing acknowledged came back")
        #expect(String(decoding: after.first ?? [], as: UTF8.self).contains("mqtt:devices/marker/readings"))
        await publisher.close()
    }
}
