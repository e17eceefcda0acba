// The MQTT client: its packets byte for byte, its topic filters, and its sessions against
// Debian's real mosquitto broker, where what matters is that a message not acknowledged is
// sent again on the next connection and one acknowledged is not.
import AlertronTesting
import NIOCore
import Testing
@testable import MQTT

@Suite struct MQTTPacketTests {
    static let samples: [MQTTPacket] = [
        .connect(.init(clientID: "ingest", cleanSession: false, keepAliveSeconds: 30, username: "u", password: "p")),
        .connect(.init(clientID: "", cleanSession: true, keepAliveSeconds: 0, username: nil, password: nil)),
        .connack(sessionPresent: true, returnCode: 0),
        .publish(MQTTPublish(topic: "devices/d-1/readings", payload: Array("{\"t\":1}".utf8), qos: 1, packetID: 7)),
        .publish(MQTTPublish(topic: "a", payload: [], qos: 0, retain: true)),
        .publish(
            MQTTPublish(
                topic: "devices/d/logs", payload: Array(repeating: 0x41, count: 300), qos: 1, duplicate: true,
                packetID: 65_535)),
        .puback(packetID: 1),
        .subscribe(packetID: 2, filters: ["devices/+/readings", "devices/+/logs"], qos: 1),
        .suback(packetID: 2, returnCodes: [1, 0x80]),
        .pingreq, .pingresp, .disconnect,
    ]

    @Test func everyPacketDecodesToWhatWasEncoded() throws {
        for packet in Self.samples {
            var buffer = ByteBuffer()
            packet.encode(into: &buffer)
            let decoded = try MQTTPacket.decode(from: &buffer)
            #expect(decoded == packet)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func aPacketCutAnywhereWaitsForTheRestAndConsumesNothing() throws {
        var whole = ByteBuffer()
        Self.samples[5].encode(into: &whole)
        for length in 0..<whole.readableBytes {
            var part = whole.getSlice(at: 0, length: length)!
            let decoded = try MQTTPacket.decode(from: &part)
            #expect(decoded == nil)
            #expect(part.readableBytes == length)
        }
    }

    @Test func theWireFormIsTheStandardsExample() throws {
        // Section 3.1 and 3.3 layouts: type and flags, remaining length, then the fields.
        var buffer = ByteBuffer()
        MQTTPacket.publish(MQTTPublish(topic: "a/b", payload: [0x2A], qos: 1, packetID: 10)).encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0x32, 0x08, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x2A])
        buffer.clear()
        MQTTPacket.pingreq.encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0xC0, 0x00])
    }

    @Test func aRemainingLengthOverTheLimitOrFiveBytesLongIsAProtocolError() {
        var long = ByteBuffer(bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: MQTTProtocolError.self) { try MQTTPacket.decode(from: &long) }
        var large = ByteBuffer(bytes: [0x30, 0x80, 0x80, 0x01])  // 16 KiB
        #expect(throws: MQTTProtocolError.self) { try MQTTPacket.decode(from: &large, maxLength: 1024) }
    }

    @Test func malformedPacketsAreRefused() {
        let malformed: [[UInt8]] = [
            [0x34, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01],  // QoS 2
            [0x32, 0x03, 0x00, 0x01, 0x61],  // QoS 1 without a packet id
            [0x30, 0x03, 0x00, 0x01, 0x2B],  // a wildcard in a published topic
            [0x30, 0x04, 0x00, 0x02, 0xC3, 0x28],  // a topic that is not UTF-8
            [0x41, 0x02, 0x00, 0x01],  // PUBACK with reserved flags
            [0x40, 0x03, 0x00, 0x01, 0x00],  // PUBACK with a byte too many
            [0x50, 0x02, 0x00, 0x01],  // PUBREC: QoS 2 is never subscribed to
            [0xF0, 0x00],
        ]
        for bytes in malformed {
            var buffer = ByteBuffer(bytes: bytes)
            #expect(throws: MQTTProtocolError.self, "\(bytes)") { try MQTTPacket.decode(from: &buffer) }
        }
    }

    /// Every sample cut, flipped and stretched at random (seeded): decoding never traps, and
    /// what it does not refuse re-encodes to bytes it reads back the same.
    @Test func mutatedBytesNeverCrashTheDecoder() throws {
        var random = SplitMix(seed: 16)
        var decoded = 0
        for round in 0..<20_000 {
            var whole = ByteBuffer()
            Self.samples[round % Self.samples.count].encode(into: &whole)
            var bytes = Array(whole.readableBytesView)
            for _ in 0...(random.next() % 4) {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                default: bytes[at] ^= 0x80
                }
                if bytes.isEmpty { bytes = [0] }
            }
            var buffer = ByteBuffer(bytes: bytes)
            guard let packet = try? MQTTPacket.decode(from: &buffer, maxLength: 1 << 16) else { continue }
            decoded += 1
            var again = ByteBuffer()
            packet.encode(into: &again)
            let reread = try MQTTPacket.decode(from: &again)
            #expect(reread == packet, "\(bytes)")
        }
        #expect(decoded > 1000, "the mutations leave many packets readable: \(decoded)")
    }

    @Test func topicFiltersMatchAsTheStandardSays() {
        #expect(MQTTTopicFilter.matches("devices/+/readings", topic: "devices/d-1/readings"))
        #expect(!MQTTTopicFilter.matches("devices/+/readings", topic: "devices/d-1/logs"))
        #expect(!MQTTTopicFilter.matches("devices/+/readings", topic: "devices/a/b/readings"))
        #expect(MQTTTopicFilter.matches("sport/#", topic: "sport"))
        #expect(MQTTTopicFilter.matches("sport/#", topic: "sport/tennis/player1"))
        #expect(!MQTTTopicFilter.matches("#", topic: "$SYS/broker/uptime"))
        #expect(MQTTTopicFilter.matches("$share/ingest/devices/+/logs", topic: "devices/x/logs"))
        #expect(MQTTTopicFilter.problem("devices/+/readings") == nil)
        #expect(MQTTTopicFilter.problem("devices/d+/readings") != nil)
        #expect(MQTTTopicFilter.problem("#/readings") != nil)
        #expect(MQTTTopicFilter.problem("") != nil)
    }

    @Test func urlsGiveHostPortAndCredentials() throws {
        let plain = try MQTTConfiguration(url: "mqtt://broker", clientID: "c")
        #expect(plain.host == "broker" && plain.port == 1883 && plain.username == nil)
        let full = try MQTTConfiguration(url: "tcp://ingest:s%40cret@10.0.0.5:18830/", clientID: "c")
        #expect(full.host == "10.0.0.5" && full.port == 18830)
        #expect(full.username == "ingest" && full.password == "s@cret")
        var broker = MQTTBroker(url: "mqtt://broker")
        broker.password = "no user"
        #expect(throws: MQTTError.self) { try broker.configuration(clientID: "c") }
        broker.username = "ingest"
        #expect(try broker.configuration(clientID: "c")?.password == "no user")
        #expect(try MQTTBroker().configuration(clientID: "c") == nil)
        for bad in ["broker:1883", "http://broker", "mqtt://", "mqtt://broker:0", "mqtt://broker:x"] {
            #expect(throws: MQTTError.self, "\(bad)") { try MQTTConfiguration(url: bad, clientID: "c") }
        }
    }
}

@Suite(.ownThread, .timeLimit(.minutes(2))) struct MQTTSessionTests {
    static func configuration(_ broker: Mosquitto, _ clientID: String) throws -> MQTTConfiguration {
        try MQTTConfiguration(url: broker.url, clientID: clientID)
    }

    static func next(_ iterator: inout AsyncStream<MQTTPublish>.Iterator) async -> MQTTPublish? {
        await iterator.next()
    }

    @Test func aMessageNotAcknowledgedComesBackOnTheNextConnectionAndAnAcknowledgedOneDoesNot() async throws {
        let broker = try await Mosquitto()
        defer { broker.stop() }
        let subscriber = try await MQTTConnection.connect(try Self.configuration(broker, "sub"))
        try await subscriber.subscribe(["devices/+/readings"])
        let publisher = try await MQTTConnection.connect(try Self.configuration(broker, "pub"))
        for n in 1...3 {
            try await publisher.publish(MQTTPublish(topic: "devices/d-\(n)/readings", payload: Array("\(n)".utf8)))
        }
        var received = subscriber.messages.makeAsyncIterator()
        var first: [MQTTPublish] = []
        for _ in 1...3 { if let message = await Self.next(&received) { first.append(message) } }
        #expect(first.map(\.topic) == ["devices/d-1/readings", "devices/d-2/readings", "devices/d-3/readings"])
        #expect(first.allSatisfy { $0.qos == 1 && !$0.duplicate })
        // Only the first is acknowledged; then the subscriber goes away without a word.
        try await subscriber.acknowledge(first.prefix(1))
        try await Task.sleep(for: .milliseconds(200))  // lets the PUBACK reach the broker before the socket closes
        await subscriber.close()

        let again = try await MQTTConnection.connect(try Self.configuration(broker, "sub"))
        #expect(again.sessionPresent)
        var redelivered = again.messages.makeAsyncIterator()
        var second: [MQTTPublish] = []
        for _ in 1...2 { if let message = await Self.next(&redelivered) { second.append(message) } }
        #expect(second.map(\.topic) == ["devices/d-2/readings", "devices/d-3/readings"])
        #expect(second.map(\.payload) == [Array("2".utf8), Array("3".utf8)])
        try await again.acknowledge(second)
        await again.close()
        await publisher.close()
    }

    @Test func theBrokerRefusesWrongCredentialsAndTheErrorSaysSo() async throws {
        let broker = try await Mosquitto(user: ("ingest", "right"))
        defer { broker.stop() }
        var configuration = try Self.configuration(broker, "c")
        configuration.password = "wrong"
        await #expect {
            _ = try await MQTTConnection.connect(configuration)
        } throws: { error in
            let error = error as? MQTTError
            return error?.code == .connectionRefused && error?.isRetriable == false
                && error?.description.contains("not authorized") == true
        }
        configuration.password = "right"
        let connection = try await MQTTConnection.connect(configuration)
        await connection.close()
    }

    @Test func nothingListeningIsARetriableConnectionError() async throws {
        let port = try freePort()
        await #expect {
            _ = try await MQTTConnection.connect(try MQTTConfiguration(url: "mqtt://127.0.0.1:\(port)", clientID: "c"))
        } throws: { error in
            (error as? MQTTError)?.code == .connectionClosed && (error as? MQTTError)?.isRetriable == true
        }
    }

    @Test func theMessageStreamEndsWhenTheBrokerStops() async throws {
        let broker = try await Mosquitto()
        let connection = try await MQTTConnection.connect(try Self.configuration(broker, "c"))
        broker.stop()
        var messages = connection.messages.makeAsyncIterator()
        let next = await Self.next(&messages)
        #expect(next == nil)
        #expect(!connection.isActive)
    }
}

/// A small seeded generator (SplitMix64), so a failing mutation can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
