// Whole-file reads, atomic writes and the wall clock, straight on the C library.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum SystemFiles {
    /// The whole file at `path`; the error message is the OS's reason (the caller adds the path).
    static func read(path: String) throws(ModelError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw errnoError() }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw errnoError() }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ModelError("not a regular file") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw errnoError()
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it over
    /// `path`, so a reader sees either the old file or the new one, never half of one.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ModelError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw errnoError() }
        var failure: ModelError?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errnoError()
                    return
                }
                offset += count
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = errnoError() }
        if close(fd) != 0, failure == nil { failure = errnoError() }
        if failure == nil, rename(temporary, path) != 0 { failure = errnoError() }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// The current UTC time as RFC 3339 with whole seconds, e.g. `2026-11-21T07:04:50Z`.
    static func nowRFC3339() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
            + "T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    private static func errnoError() -> ModelError {
        ModelError(String(cString: strerror(errno)))
    }
}

/// The C library's `read`/`write`, named apart from the Swift methods called `read` and `write`.
#if canImport(Glibc)
private let systemRead: @Sendable (Int32, UnsafeMutableRawPointer?, Int) -> Int = Glibc.read
private let systemWrite: @Sendable (Int32, UnsafeRawPointer?, Int) -> Int = Glibc.write
#elseif canImport(Musl)
private let systemRead: @Sendable (Int32, UnsafeMutableRawPointer?, Int) -> Int = Musl.read
private let systemWrite: @Sendable (Int32, UnsafeRawPointer?, Int) -> Int = Musl.write
#else
private let systemRead: @Sendable (Int32, UnsafeMutableRawPointer?, Int) -> Int = Darwin.read
private let systemWrite: @Sendable (Int32, UnsafeRawPointer?, Int) -> Int = Darwin.write
#endif
