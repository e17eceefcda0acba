// Gives the development broker a fixed bootstrap address: librdkafka's mock cluster binds
// random ports, so this accepts on the configured address and relays bytes to one broker.
// Clients then learn the brokers' own addresses from metadata and connect there directly.
import Foundation

final class TCPForwarder: @unchecked Sendable {
    // @unchecked: `connections` is guarded by `lock`; file descriptors are plain integers.
    private let listener: Int32
    private let target: (host: String, port: UInt16)
    private let lock = NSLock()
    private var connections: Set<Int32> = []
    private var stopped = false
    let boundPort: UInt16

    /// Binds and listens at once, so a taken port fails here, not later.
    init(host: String, port: UInt16, target: (host: String, port: UInt16)) throws {
        self.target = target
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ForwarderError("socket() failed: \(String(cString: strerror(errno)))") }
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = try Self.socketAddress(host: host, port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw ForwarderError("cannot listen on \(host):\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        boundPort = UInt16(bigEndian: actual.sin_port)
    }

    func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "devbroker-accept"
        thread.start()
    }

    /// Stops accepting and cuts every relayed connection.
    func stop() {
        let open: Set<Int32> = lock.withLock {
            stopped = true
            return connections
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for descriptor in open { shutdown(descriptor, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            guard let upstream = try? connectUpstream() else {
                close(client)
                continue
            }
            let admitted = lock.withLock { () -> Bool in
                guard !stopped else { return false }
                connections.formUnion([client, upstream])
                return true
            }
            guard admitted else {
                close(client)
                close(upstream)
                continue
            }
            let finished = Finished(count: 2) { [self] in
                lock.withLock { connections.subtract([client, upstream]) }
                close(client)
                close(upstream)
            }
            relay(from: client, to: upstream, finished)
            relay(from: upstream, to: client, finished)
        }
    }

    private func relay(from source: Int32, to destination: Int32, _ finished: Finished) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            pump: while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes {
                        send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL))
                    }
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break pump }
                    sent += written
                }
            }
            // Half-close: the peer sees end-of-stream; both directions done closes the pair.
            shutdown(destination, Int32(SHUT_WR))
            shutdown(source, Int32(SHUT_RD))
            finished.done()
        }
        thread.name = "devbroker-relay"
        thread.start()
    }

    private func connectUpstream() throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = try Self.socketAddress(host: target.host, port: target.port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw ForwarderError("broker at \(target.host):\(target.port) refused the connection")
        }
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        return descriptor
    }

    private static func socketAddress(host: String, port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let name = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, name, &address.sin_addr) == 1 else {
            throw ForwarderError("'\(host)' is not an IPv4 address")
        }
        return address
    }

    /// Runs `action` once, after `done()` was called `count` times.
    private final class Finished: @unchecked Sendable {
        private let lock = NSLock()
        private var remaining: Int
        private let action: () -> Void
        init(count: Int, action: @escaping () -> Void) {
            remaining = count
            self.action = action
        }
        func done() {
            let last = lock.withLock {
                remaining -= 1; return remaining == 0
            }
            if last { action() }
        }
    }
}

struct ForwarderError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
