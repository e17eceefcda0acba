// Debian's mosquitto broker on a free loopback port, for tests that need a real MQTT server:
// persistent sessions kept in memory, and a password file when a user is given.
import Foundation

public final class Mosquitto: @unchecked Sendable {  // the Process is only started and stopped
    public static let binary = "/usr/sbin/mosquitto"

    public let port: Int
    public let directory: URL
    private let process: Process

    /// `mqtt://127.0.0.1:<port>`, with the user when one is set.
    public let url: String

    /// Starts the broker and returns once it accepts connections. With `user`, anonymous
    /// clients are refused and only that user name and password are let in.
    public init(user: (name: String, password: String)? = nil, maxInflight: Int = 1000) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mosquitto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try freePort()
        var configuration = """
            listener \(port) 127.0.0.1
            persistence false
            max_inflight_messages \(maxInflight)
            max_queued_messages 100000
            log_dest stderr

            """
        if let user {
            let file = directory.appendingPathComponent("passwords")
            try "\(user.name):\(user.password)\n".write(to: file, atomically: true, encoding: .utf8)
            let hash = Process()
            hash.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
            hash.arguments = ["-U", file.path]
            try hash.run()
            hash.waitUntilExit()
            configuration += "allow_anonymous false\npassword_file \(file.path)\n"
            url = "mqtt://\(user.name):\(user.password)@127.0.0.1:\(port)"
        } else {
            configuration += "allow_anonymous true\n"
            url = "mqtt://127.0.0.1:\(port)"
        }
        let file = directory.appendingPathComponent("mosquitto.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-c", file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let port = port
        try await eventually(10, "mosquitto to listen on \(port)") { canConnect(port: port) }
    }

    /// Stops the broker (its sessions are gone with it) and removes its files. SIGKILL, because
    /// the child inherits the test process's blocked SIGTERM and would never see a terminate().
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// Whether something accepts TCP connections on the loopback port.
func canConnect(port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
