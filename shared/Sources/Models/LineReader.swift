// Lines of a text file in memory, numbered from 1, for readers whose errors name the line.

/// Splits bytes at `\n`, dropping a `\r` before it and a UTF-8 byte-order mark at the start.
struct LineReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var number = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    struct Line {
        var bytes: UnsafeBufferPointer<UInt8>
        var number: Int
        var isBlank: Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
    }

    mutating func nextLine() -> Line? {
        guard position < bytes.count else { return nil }
        let start = position
        var end = start
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        position = end + 1
        number += 1
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        return Line(bytes: UnsafeBufferPointer(rebasing: bytes[start..<end]), number: number)
    }
}
