// A TCP port for a child process to listen on: what the kernel picks for port 0 on loopback,
// released at once (a small race that tests accept; a process given port 0 is better where
// the child can report its port).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else { throw TimedOut(what: "a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
