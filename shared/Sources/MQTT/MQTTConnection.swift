// One MQTT 3.1.1 client connection over SwiftNIO. Alertron speaks MQTT itself, rather than
// through libmosquitto, because it must acknowledge a QoS 1 message only after Kafka has it:
// Debian's libmosquitto (2.0.11) sends PUBACK before its message callback runs and has no
// manual acknowledgement, so a crash there would lose the message. Here a received message is
// acknowledged only when the caller says so (`acknowledge`), in the order it arrived, as the
// standard requires (section 4.6).
import NIOCore
import NIOPosix

/// Where and as whom to connect. Every default is the one ingest documents.
public struct MQTTConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 1883
    /// Stable across restarts: the server keeps a persistent session by this name.
    public var clientID: String
    public var username: String?
    public var password: String?
    public var keepAliveSeconds: UInt16 = 30
    /// false: a persistent session, so QoS 1 messages wait at the server while the client is away.
    public var cleanSession = false
    /// Longest wait for the TCP connection and for CONNACK.
    public var connectTimeout: Duration = .seconds(5)
    /// Largest packet accepted from the server; a larger one closes the connection.
    public var maxPacketBytes = 16 << 20

    public init(clientID: String) { self.clientID = clientID }

    /// `mqtt://[user[:password]@]host[:port]` (also `tcp://`); the port defaults to 1883.
    public init(url: String, clientID: String) throws(MQTTError) {
        self.init(clientID: clientID)
        var rest = Substring(url)
        guard let scheme = rest.firstRange(of: "://"),
            ["mqtt", "tcp"].contains(rest[..<scheme.lowerBound].lowercased())
        else { throw MQTTError(.invalidConfiguration, "MQTT_URL must look like mqtt://host:1883, found '\(url)'") }
        rest = rest[scheme.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                username = String(credentials[..<colon]).removingPercentEncodingIfPossible
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncodingIfPossible
            } else {
                username = String(credentials).removingPercentEncodingIfPossible
            }
        }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(port) else {
                throw MQTTError(.invalidConfiguration, "the port of MQTT_URL must be 1 to 65535")
            }
            self.port = port
            rest = rest[..<colon]
        }
        host = String(rest.trimmingPrefix("[").prefix { $0 != "]" })
        guard !host.isEmpty, !host.contains("/") else {
            throw MQTTError(.invalidConfiguration, "MQTT_URL has no host (mqtt://host:1883)")
        }
    }
}

extension String {
    /// `%40` as `@` in a URL's user name or password; the text itself when it is not valid encoding.
    fileprivate var removingPercentEncodingIfPossible: String {
        var bytes: [UInt8] = []
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let end = utf8.index(index, offsetBy: 3, limitedBy: utf8.endIndex),
                let value = UInt8(String(self[utf8.index(after: index)..<end]), radix: 16)
            {
                bytes.append(value)
                index = end
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}

public struct MQTTError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case invalidConfiguration = "invalid_configuration"
        /// The server answered CONNACK with a refusal (bad credentials, not authorized, ...).
        case connectionRefused = "connection_refused"
        case subscriptionRefused = "subscription_refused"
        case timedOut = "timed_out"
        case connectionClosed = "connection_closed"
        case protocolError = "protocol_error"
    }

    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) { (self.code, self.description) = (code, description) }

    /// Whether connecting again later may succeed; a refusal of the credentials will not.
    public var isRetriable: Bool { code != .invalidConfiguration && code != .connectionRefused }
}

/// A connected, accepted session. Received messages arrive on `messages`; QoS 1 ones must be
/// acknowledged with `acknowledge`, in arrival order, once the caller has done their work.
public final class MQTTConnection: Sendable {
    /// Received messages, in the order the server sent them; finishes when the connection closes.
    public let messages: AsyncStream<MQTTPublish>
    /// Whether the server still had this client's session (its subscriptions and unacknowledged messages).
    public let sessionPresent: Bool
    private let channel: any Channel

    private init(channel: any Channel, messages: AsyncStream<MQTTPublish>, sessionPresent: Bool) {
        (self.channel, self.messages, self.sessionPresent) = (channel, messages, sessionPresent)
    }

    /// Connects and waits for the server to accept the session.
    public static func connect(
        _ configuration: MQTTConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(MQTTError) -> MQTTConnection {
        let (messages, continuation) = AsyncStream<MQTTPublish>.makeStream()
        let keepAlive = Int64(configuration.keepAliveSeconds)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(configuration.connectTimeout / .milliseconds(1))))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Quiet for half a keep-alive period either way: a PINGREQ keeps the
                        // session, and a server that answers nothing until the next such
                        // period has passed is gone.
                        try channel.pipeline.syncOperations.addHandler(
                            IdleStateHandler(
                                readTimeout: keepAlive > 0 ? .milliseconds(keepAlive * 500) : nil,
                                writeTimeout: keepAlive > 0 ? .milliseconds(keepAlive * 500) : nil))
                        try channel.pipeline.syncOperations.addHandler(
                            MQTTClientHandler(messages: continuation, maxPacketBytes: configuration.maxPacketBytes))
                    }
                }
                .connect(host: configuration.host, port: configuration.port).get()
        } catch {
            continuation.finish()
            throw MQTTError(
                .connectionClosed, "could not connect to \(configuration.host):\(configuration.port): \(error)")
        }
        let connack: MQTTPacket
        do {
            connack = try await request(
                .connect(
                    .init(
                        clientID: configuration.clientID, cleanSession: configuration.cleanSession,
                        keepAliveSeconds: configuration.keepAliveSeconds, username: configuration.username,
                        password: configuration.password)),
                on: channel, within: configuration.connectTimeout)
        } catch {
            channel.close(promise: nil)
            throw error
        }
        guard case .connack(let sessionPresent, let code) = connack, code == 0 else {
            channel.close(promise: nil)
            if case .connack(_, let code) = connack {
                throw MQTTError(
                    .connectionRefused, "the server refused the connection: \(MQTTPacket.connackReason(code))")
            }
            throw MQTTError(.protocolError, "the server answered CONNECT with \(connack)")
        }
        return MQTTConnection(channel: channel, messages: messages, sessionPresent: sessionPresent)
    }

    /// Subscribes to every filter at `qos`; fails when the server refuses any of them.
    public func subscribe(
        _ filters: [String], qos: UInt8 = 1, within deadline: Duration = .seconds(10)
    )
        async throws(MQTTError)
    {
        for filter in filters {
            if let problem = MQTTTopicFilter.problem(filter) { throw MQTTError(.invalidConfiguration, problem) }
        }
        let answer = try await Self.request(
            .subscribe(packetID: 0, filters: filters, qos: qos), on: channel, within: deadline)
        guard case .suback(_, let codes) = answer, codes.count == filters.count else {
            throw MQTTError(.protocolError, "the server answered SUBSCRIBE with \(answer)")
        }
        let refused = zip(filters, codes).filter { $0.1 == 0x80 }.map(\.0)
        guard refused.isEmpty else {
            throw MQTTError(
                .subscriptionRefused, "the server refused the subscription to \(refused.joined(separator: ", "))")
        }
        // A lower QoS than asked for would quietly make delivery at most once.
        let downgraded = zip(filters, codes).filter { $0.1 < qos }.map(\.0)
        guard downgraded.isEmpty else {
            throw MQTTError(
                .subscriptionRefused,
                "the server granted less than QoS \(qos) for \(downgraded.joined(separator: ", ")) (its max_qos?)")
        }
    }

    /// Publishes; at QoS 1 returns once the server has acknowledged the message.
    public func publish(_ message: MQTTPublish, within deadline: Duration = .seconds(30)) async throws(MQTTError) {
        try await publish([message], within: deadline)
    }

    /// Publishes the messages in order with one flush; returns once the server has acknowledged
    /// every QoS 1 message among them. At most 65,535 may wait for acknowledgement at once.
    public func publish(_ messages: [MQTTPublish], within deadline: Duration = .seconds(30)) async throws(MQTTError) {
        guard !messages.isEmpty else { return }
        let answers = messages.map { $0.qos == 0 ? nil : channel.eventLoop.makePromise(of: MQTTPacket.self) }
        let timeout = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(deadline / .milliseconds(1)))) {
            for answer in answers {
                answer?.fail(MQTTError(.timedOut, "the server did not acknowledge within \(deadline)"))
            }
        }
        defer { timeout.cancel() }
        for (message, answer) in zip(messages, answers) {
            var message = message
            message.packetID = nil
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { error in answer?.fail(error) }
            channel.write(MQTTRequest(packet: .publish(message), answer: answer), promise: written)
        }
        channel.flush()
        do {
            for answer in answers { _ = try await answer?.futureResult.get() }
        } catch let error as MQTTError {
            throw error
        } catch {
            throw MQTTError(.connectionClosed, "the connection closed: \(error)")
        }
    }

    /// Acknowledges received QoS 1 messages (PUBACK), in the order given; QoS 0 ones need none.
    public func acknowledge(_ messages: some Sequence<MQTTPublish>) async throws(MQTTError) {
        let acks = messages.compactMap { $0.packetID.map { MQTTPacket.puback(packetID: $0) } }
        if !acks.isEmpty { try await Self.write(acks, on: channel) }
    }

    /// Ends the session politely (DISCONNECT) and closes the socket; the server keeps a
    /// persistent session's unacknowledged messages for the next connection.
    public func close() async {
        try? await Self.write([.disconnect], on: channel)
        try? await channel.close()
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Stops (false) or resumes (true) reading from the socket: while stopped, TCP holds the
    /// server back, so a receiver that cannot keep up bounds what it holds in memory.
    public func read(_ on: Bool) async {
        try? await channel.setOption(.autoRead, value: on)
    }

    private static func write(_ packets: [MQTTPacket], on channel: any Channel) async throws(MQTTError) {
        do {
            for packet in packets.dropLast() { channel.write(MQTTRequest(packet: packet), promise: nil) }
            try await channel.writeAndFlush(MQTTRequest(packet: packets[packets.count - 1]))
        } catch {
            throw MQTTError(.connectionClosed, "the connection closed: \(error)")
        }
    }

    /// Sends a packet that the server answers, and waits for the answer.
    private static func request(
        _ packet: MQTTPacket, on channel: any Channel, within deadline: Duration
    ) async throws(MQTTError) -> MQTTPacket {
        let answer = channel.eventLoop.makePromise(of: MQTTPacket.self)
        let timeout = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(deadline / .milliseconds(1)))) {
            answer.fail(MQTTError(.timedOut, "the server did not answer within \(deadline)"))
        }
        defer { timeout.cancel() }
        do {
            try await channel.writeAndFlush(MQTTRequest(packet: packet, answer: answer))
            return try await answer.futureResult.get()
        } catch let error as MQTTError {
            throw error
        } catch {
            answer.fail(error)
            throw MQTTError(.connectionClosed, "the connection closed: \(error)")
        }
    }
}

/// A packet to send, and where its answer goes when the server answers it.
struct MQTTRequest {
    var packet: MQTTPacket
    var answer: EventLoopPromise<MQTTPacket>?
}

/// Frames packets, numbers requests, matches answers to them, and keeps the session alive.
/// Runs on the channel's event loop only.
final class MQTTClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = MQTTRequest
    typealias OutboundOut = ByteBuffer

    private let messages: AsyncStream<MQTTPublish>.Continuation
    private let maxPacketBytes: Int
    private var received = ByteBuffer()
    private var connectAnswer: EventLoopPromise<MQTTPacket>?
    private var answers: [UInt16: EventLoopPromise<MQTTPacket>] = [:]
    private var lastPacketID: UInt16 = 0
    private var pingOutstanding = false

    init(messages: AsyncStream<MQTTPublish>.Continuation, maxPacketBytes: Int) {
        (self.messages, self.maxPacketBytes) = (messages, maxPacketBytes)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var request = unwrapOutboundIn(data)
        if let answer = request.answer {
            guard answers.count < Int(UInt16.max) else {
                let error = MQTTError(.protocolError, "65535 messages already await acknowledgement")
                answer.fail(error)
                promise?.fail(error)
                return
            }
            switch request.packet {
            case .connect: connectAnswer = answer
            case .subscribe(_, let filters, let qos):
                let id = nextPacketID()
                answers[id] = answer
                request.packet = .subscribe(packetID: id, filters: filters, qos: qos)
            case .publish(var message):
                let id = nextPacketID()
                answers[id] = answer
                message.packetID = id
                request.packet = .publish(message)
            default: answer.fail(MQTTError(.protocolError, "\(request.packet) has no answer"))
            }
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        request.packet.encode(into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// Packet identifiers are 1...65535 and unique among those still waiting for an answer.
    private func nextPacketID() -> UInt16 {
        repeat {
            lastPacketID = lastPacketID == UInt16.max ? 1 : lastPacketID + 1
        } while answers[lastPacketID] != nil
        return lastPacketID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pingOutstanding = false
        received.writeBuffer(&bytes)
        do {
            while let packet = try MQTTPacket.decode(from: &received, maxLength: maxPacketBytes) {
                try handle(packet)
            }
            received.discardReadBytes()
        } catch {
            fail(context: context, error)
        }
    }

    private func handle(_ packet: MQTTPacket) throws(MQTTError) {
        switch packet {
        case .connack:
            connectAnswer?.succeed(packet)
            connectAnswer = nil
        case .suback(let id, _), .puback(let id):
            answers.removeValue(forKey: id)?.succeed(packet)
        case .publish(let message):
            messages.yield(message)
        case .pingresp:
            break
        default:
            throw MQTTError(.protocolError, "a server does not send \(packet)")
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event as? IdleStateHandler.IdleStateEvent {
        case .write?:
            ping(context)
        case .read?:
            // Not reading (the receiver is full): the server's answers wait in the socket.
            if (try? context.channel.syncOptions?.getOption(.autoRead)) == false { return }
            guard !pingOutstanding else {
                fail(context: context, MQTTError(.timedOut, "the server did not answer a PINGREQ"))
                return
            }
            ping(context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A PINGREQ; the next bytes from the server (PINGRESP or anything else) settle it.
    private func ping(_ context: ChannelHandlerContext) {
        pingOutstanding = true
        var buffer = context.channel.allocator.buffer(capacity: 2)
        MQTTPacket.pingreq.encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let closed = MQTTError(.connectionClosed, "the connection to the MQTT server closed")
        connectAnswer?.fail(closed)
        connectAnswer = nil
        for answer in answers.values { answer.fail(closed) }
        answers = [:]
        messages.finish()
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        let failure =
            (error as? MQTTError)
            ?? MQTTError(.protocolError, "\((error as? MQTTProtocolError)?.description ?? "\(error)")")
        connectAnswer?.fail(failure)
        connectAnswer = nil
        for answer in answers.values { answer.fail(failure) }
        answers = [:]
        context.close(promise: nil)
    }
}
