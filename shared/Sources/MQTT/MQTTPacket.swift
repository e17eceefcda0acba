// MQTT 3.1.1 control packets (OASIS standard, 2014) as values, and their wire form. Only what a
// client that publishes and subscribes at QoS 0 and 1 needs; anything else from a server is a
// protocol error. Pure: encoded and decoded without a socket, so every packet is unit-tested.
import NIOCore

/// A message published to a topic, as sent or as received.
public struct MQTTPublish: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// 0 (at most once) or 1 (at least once).
    public var qos: UInt8
    public var retain: Bool
    /// Set by the server when it sends a QoS 1 message again (after a reconnect).
    public var duplicate: Bool
    /// Present exactly when `qos` is 1.
    public var packetID: UInt16?

    public init(
        topic: String, payload: [UInt8], qos: UInt8 = 1, retain: Bool = false, duplicate: Bool = false,
        packetID: UInt16? = nil
    ) {
        (self.topic, self.payload, self.qos, self.retain) = (topic, payload, qos, retain)
        (self.duplicate, self.packetID) = (duplicate, packetID)
    }
}

public enum MQTTPacket: Sendable, Equatable {
    public struct Connect: Sendable, Equatable {
        public var clientID: String
        /// false: the server keeps the subscriptions and unacknowledged QoS 1 messages across
        /// connections (a persistent session).
        public var cleanSession: Bool
        public var keepAliveSeconds: UInt16
        public var username: String?
        public var password: String?
    }

    case connect(Connect)
    case connack(sessionPresent: Bool, returnCode: UInt8)
    case publish(MQTTPublish)
    case puback(packetID: UInt16)
    /// Topic filters with the highest QoS wanted for each.
    case subscribe(packetID: UInt16, filters: [String], qos: UInt8)
    /// One return code per filter: the QoS granted, or 0x80 for a refusal.
    case suback(packetID: UInt16, returnCodes: [UInt8])
    case pingreq
    case pingresp
    case disconnect

    /// The largest remaining length the four-byte variable-length encoding can carry.
    public static let maxRemainingLength = 268_435_455

    /// What CONNACK's return codes mean (section 3.2.2.3).
    public static func connackReason(_ code: UInt8) -> String {
        switch code {
        case 1: "the server does not speak MQTT 3.1.1"
        case 2: "the client identifier was rejected"
        case 3: "the server is unavailable"
        case 4: "bad user name or password"
        case 5: "not authorized"
        default: "return code \(code)"
        }
    }
}

/// A byte stream that breaks the protocol: a peer that sends it is disconnected.
public struct MQTTProtocolError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

// MARK: Encoding

extension MQTTPacket {
    /// Appends the packet's wire form to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        let first: UInt8
        switch self {
        case .connect(let connect):
            first = 0x10
            body.writeMQTTString("MQTT")
            body.writeInteger(UInt8(4))  // protocol level 3.1.1
            var flags: UInt8 = connect.cleanSession ? 0x02 : 0
            if connect.username != nil { flags |= 0x80 }
            if connect.password != nil { flags |= 0x40 }
            body.writeInteger(flags)
            body.writeInteger(connect.keepAliveSeconds)
            body.writeMQTTString(connect.clientID)
            if let username = connect.username { body.writeMQTTString(username) }
            if let password = connect.password { body.writeMQTTString(password) }
        case .connack(let sessionPresent, let returnCode):
            first = 0x20
            body.writeInteger(UInt8(sessionPresent ? 1 : 0))
            body.writeInteger(returnCode)
        case .publish(let publish):
            first = 0x30 | (publish.duplicate ? 0x08 : 0) | (publish.qos << 1) | (publish.retain ? 1 : 0)
            body.writeMQTTString(publish.topic)
            if publish.qos > 0 { body.writeInteger(publish.packetID ?? 0) }
            body.writeBytes(publish.payload)
        case .puback(let packetID):
            first = 0x40
            body.writeInteger(packetID)
        case .subscribe(let packetID, let filters, let qos):
            first = 0x82
            body.writeInteger(packetID)
            for filter in filters {
                body.writeMQTTString(filter)
                body.writeInteger(qos)
            }
        case .suback(let packetID, let returnCodes):
            first = 0x90
            body.writeInteger(packetID)
            body.writeBytes(returnCodes)
        case .pingreq: first = 0xC0
        case .pingresp: first = 0xD0
        case .disconnect: first = 0xE0
        }
        buffer.writeInteger(first)
        var length = body.readableBytes
        repeat {
            var byte = UInt8(length & 0x7F)
            length >>= 7
            if length > 0 { byte |= 0x80 }
            buffer.writeInteger(byte)
        } while length > 0
        buffer.writeBuffer(&body)
    }
}

extension ByteBuffer {
    /// A UTF-8 string with its two-byte length; longer strings are cut at 65,535 bytes, which
    /// callers prevent by validating topics and identifiers first.
    fileprivate mutating func writeMQTTString(_ string: String) {
        let bytes = Array(string.utf8.prefix(Int(UInt16.max)))
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }

    fileprivate mutating func readMQTTString(_ what: String) throws(MQTTProtocolError) -> String {
        guard let length = readInteger(as: UInt16.self), let bytes = readBytes(length: Int(length)) else {
            throw MQTTProtocolError("\(what) is cut short")
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw MQTTProtocolError("\(what) is not UTF-8")
        }
        return string
    }
}

// MARK: Decoding

extension MQTTPacket {
    /// The packet at the start of `buffer`, consumed; nil (nothing consumed) while it is incomplete.
    /// Packets a client never receives (CONNECT, SUBSCRIBE) decode too, so a test server can
    /// be written with the same code.
    public static func decode(
        from buffer: inout ByteBuffer, maxLength: Int = maxRemainingLength
    ) throws(MQTTProtocolError) -> MQTTPacket? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        var length = 0
        var lengthBytes = 0
        while true {
            guard lengthBytes < 4 else { throw MQTTProtocolError("the remaining length takes more than 4 bytes") }
            guard let byte = buffer.getInteger(at: buffer.readerIndex + 1 + lengthBytes, as: UInt8.self) else {
                return nil
            }
            length |= Int(byte & 0x7F) << (7 * lengthBytes)
            lengthBytes += 1
            if byte & 0x80 == 0 { break }
        }
        guard length <= maxLength else {
            throw MQTTProtocolError("a packet of \(length) bytes is larger than the limit of \(maxLength)")
        }
        guard buffer.readableBytes >= 1 + lengthBytes + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 1 + lengthBytes)
        var body = buffer.readSlice(length: length)!
        let packet = try decode(first: first, body: &body)
        guard body.readableBytes == 0 else {
            throw MQTTProtocolError("packet type \(first >> 4) has \(body.readableBytes) bytes too many")
        }
        return packet
    }

    private static func decode(first: UInt8, body: inout ByteBuffer) throws(MQTTProtocolError) -> MQTTPacket {
        let flags = first & 0x0F
        func expectFlags(_ expected: UInt8, _ name: String) throws(MQTTProtocolError) {
            guard flags == expected else { throw MQTTProtocolError("\(name) has reserved flags \(flags)") }
        }
        func packetID(_ name: String) throws(MQTTProtocolError) -> UInt16 {
            guard let id = body.readInteger(as: UInt16.self) else { throw MQTTProtocolError("\(name) is cut short") }
            return id
        }
        switch first >> 4 {
        case 1:
            try expectFlags(0, "CONNECT")
            guard try body.readMQTTString("CONNECT's protocol name") == "MQTT",
                body.readInteger(as: UInt8.self) == 4, let connectFlags = body.readInteger(as: UInt8.self),
                let keepAlive = body.readInteger(as: UInt16.self)
            else { throw MQTTProtocolError("CONNECT is not MQTT 3.1.1") }
            guard connectFlags & 0x04 == 0 else { throw MQTTProtocolError("CONNECT with a will is not supported") }
            let clientID = try body.readMQTTString("the client identifier")
            let username = connectFlags & 0x80 != 0 ? try body.readMQTTString("the user name") : nil
            let password = connectFlags & 0x40 != 0 ? try body.readMQTTString("the password") : nil
            return .connect(
                .init(
                    clientID: clientID, cleanSession: connectFlags & 0x02 != 0, keepAliveSeconds: keepAlive,
                    username: username, password: password))
        case 2:
            try expectFlags(0, "CONNACK")
            guard let ackFlags = body.readInteger(as: UInt8.self), let code = body.readInteger(as: UInt8.self) else {
                throw MQTTProtocolError("CONNACK is cut short")
            }
            return .connack(sessionPresent: ackFlags & 1 != 0, returnCode: code)
        case 3:
            let qos = (flags >> 1) & 0x03
            guard qos <= 1 else { throw MQTTProtocolError("PUBLISH at QoS \(qos); only 0 and 1 are subscribed to") }
            let topic = try body.readMQTTString("PUBLISH's topic")
            guard !topic.isEmpty, !topic.contains(where: { $0 == "+" || $0 == "#" }) else {
                throw MQTTProtocolError("PUBLISH's topic is empty or holds a wildcard")
            }
            let id = qos > 0 ? try packetID("PUBLISH") : nil
            let payload = body.readBytes(length: body.readableBytes) ?? []
            return .publish(
                MQTTPublish(
                    topic: topic, payload: payload, qos: qos, retain: flags & 1 != 0, duplicate: flags & 0x08 != 0,
                    packetID: id))
        case 4:
            try expectFlags(0, "PUBACK")
            return .puback(packetID: try packetID("PUBACK"))
        case 8:
            try expectFlags(2, "SUBSCRIBE")
            let id = try packetID("SUBSCRIBE")
            var filters: [String] = []
            var qos: UInt8 = 0
            while body.readableBytes > 0 {
                filters.append(try body.readMQTTString("a topic filter"))
                guard let wanted = body.readInteger(as: UInt8.self), wanted <= 2 else {
                    throw MQTTProtocolError("SUBSCRIBE's requested QoS is missing or invalid")
                }
                qos = max(qos, wanted)
            }
            guard !filters.isEmpty else { throw MQTTProtocolError("SUBSCRIBE without a topic filter") }
            return .subscribe(packetID: id, filters: filters, qos: qos)
        case 9:
            try expectFlags(0, "SUBACK")
            let id = try packetID("SUBACK")
            return .suback(packetID: id, returnCodes: body.readBytes(length: body.readableBytes) ?? [])
        case 12:
            try expectFlags(0, "PINGREQ")
            return .pingreq
        case 13:
            try expectFlags(0, "PINGRESP")
            return .pingresp
        case 14:
            try expectFlags(0, "DISCONNECT")
            return .disconnect
        default:
            throw MQTTProtocolError("packet type \(first >> 4) is not used by a QoS 0/1 client")
        }
    }
}

/// Topic filter syntax (section 4.7): `+` fills a whole level, `#` only the whole last level.
public enum MQTTTopicFilter {
    /// nil when `filter` is valid, else why not.
    public static func problem(_ filter: String) -> String? {
        guard !filter.isEmpty, filter.utf8.count <= 65_535 else { return "a topic filter is 1 to 65535 bytes" }
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || index != levels.count - 1) {
                return "'#' must be the whole last level of '\(filter)'"
            }
            if level.contains("+") && level != "+" { return "'+' must be a whole level of '\(filter)'" }
        }
        return nil
    }

    /// Whether `topic` matches `filter`; a `$share/<group>/` prefix is the group's, not the topic's.
    public static func matches(_ filter: String, topic: String) -> Bool {
        var filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        if filterLevels.first == "$share", filterLevels.count > 2 { filterLevels.removeFirst(2) }
        let topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in filterLevels.enumerated() {
            if level == "#" { return !(index == 0 && topic.hasPrefix("$")) }
            guard index < topicLevels.count else { return false }
            if level == "+" {
                if index == 0 && topic.hasPrefix("$") { return false }
                continue
            }
            guard level == topicLevels[index] else { return false }
        }
        return filterLevels.count == topicLevels.count
    }
}
