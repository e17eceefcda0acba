// Request bodies sent compressed (`Content-Encoding: gzip` or `deflate`), as log shippers and
// OpenTelemetry exporters usually send them, inflated with zlib. The body limit holds for the
// inflated size: inflating stops at the limit, so a small bomb gets 413, never the memory.
import Czlib
import Hummingbird
import Telemetry

enum ContentEncoding: Sendable {
    case identity, gzip, deflate

    /// The encoding a `Content-Encoding` header names; absent or `identity` is none.
    init(header: String?) throws(APIError) {
        let name = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch name {
        case "", "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        default:
            throw APIError(
                status: 415, code: "unsupported_encoding",
                message: "Content-Encoding '\(name.prefix(40))' is not supported; send gzip, deflate or none")
        }
    }

    /// The body inflated, at most `limit` bytes of it.
    func decode(_ body: ByteBuffer, limit: Int) throws(APIError) -> ByteBuffer {
        guard self != .identity else { return body }
        var bytes = body
        let input = bytes.readBytes(length: bytes.readableBytes) ?? []
        return ByteBuffer(bytes: try Self.inflate(input, gzip: self == .gzip, limit: limit))
    }

    /// Inflates a gzip stream (one member or several, as `cat a.gz b.gz` makes) or a zlib
    /// stream (HTTP's `deflate`).
    static func inflate(_ input: [UInt8], gzip: Bool, limit: Int) throws(APIError) -> [UInt8] {
        let what = gzip ? "gzip" : "deflate"
        guard !input.isEmpty else { throw .badRequest("bad_encoding", "the body is empty, not \(what) data") }
        var stream = z_stream()
        // 15: the largest window; +16: a gzip header and trailer instead of zlib's.
        guard alertron_inflate_init(&stream, gzip ? 15 + 16 : 15) == Z_OK else {
            throw APIError(status: 500, code: "inflate_failed", message: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var failure: APIError?
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while failure == nil {
                let status = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    return Czlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit {
                    failure = APIError(
                        status: 413, code: "body_too_large",
                        message: "the body inflates to more than \(limit) bytes")
                    break
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    // Another gzip member may follow; anything else after the end is damage.
                    guard stream.avail_in > 0 else { return }
                    guard gzip, inflateReset(&stream) == Z_OK else {
                        failure = .badRequest("bad_encoding", "the body has bytes after the end of its \(what) data")
                        break
                    }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    failure = .badRequest("bad_encoding", "the \(what) data ends before its end (truncated)")
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    failure = .badRequest("bad_encoding", "the body is not valid \(what) data: \(reason)")
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
