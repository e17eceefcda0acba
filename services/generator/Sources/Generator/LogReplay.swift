// Replays a file of log lines as log events: plain lines, or Loghub-style labeled lines. The
// file is read in chunks, so a multi-gigabyte Loghub file streams instead of filling memory.
import Events
import Foundation

package enum ReplayFormat: String, CaseIterable, Sendable {
    /// The whole line is the message; nothing is known about its severity.
    case raw
    /// Loghub's labeled lines: the first token is `-` for a routine line, or an alert
    /// category (critical); the rest of the line is the message.
    case loghub

    /// The log line in `text` (one line, without its newline), or nil when there is none:
    /// a blank line, or a Loghub line with a label and nothing else.
    func parse(_ text: Substring, source: String) -> LogLine? {
        let isBlank = { (c: Character) in c == " " || c == "\t" }
        var text = text
        if text.last == "\r" { text = text.dropLast() }
        switch self {
        case .raw:
            guard !text.allSatisfy(isBlank) else { return nil }
            return LogLine(source: source, message: Self.capped(text), level: nil, label: .unlabeled)
        case .loghub:
            let trimmed = text.drop(while: isBlank)
            guard let space = trimmed.firstIndex(where: isBlank) else { return nil }
            let message = trimmed[space...].drop(while: isBlank)
            guard !message.isEmpty else { return nil }
            return LogLine(
                source: source, message: Self.capped(message), level: nil,
                label: trimmed[..<space] == "-" ? .routine : .critical)
        }
    }

    /// Ingest and the scorer refuse messages over 8 KiB: cut longer lines at a character boundary.
    static func capped(_ text: Substring) -> String {
        guard text.utf8.count > LogEvent.maxMessageBytes else { return String(text) }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: LogEvent.maxMessageBytes)
        while end > text.startIndex, String.Index(end, within: text) == nil {
            end = text.utf8.index(before: end)
        }
        return String(text[..<end])
    }
}

/// Reads a replay file line by line, from the start again at its end when looping.
package final class LogReplay {
    let path: String
    let format: ReplayFormat
    let source: String
    let loop: Bool
    /// Non-blank lines that held no log line (a Loghub label alone).
    private(set) var skippedLines = 0

    private let file: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEndOfFile = false
    private var linesThisPass = 0

    private static let chunkSize = 1 << 20

    init(path: String, format: ReplayFormat, source: String? = nil, loop: Bool = false) throws {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw GeneratorError(.replayFile, "cannot open the replay file \(path)")
        }
        self.file = file
        self.path = path
        self.format = format
        self.source = source ?? Self.defaultSource(path: path)
        self.loop = loop
    }

    deinit { try? file.close() }

    /// The key of replayed lines when none is given: the file's name without its extension.
    static func defaultSource(path: String) -> String {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return name.isEmpty ? "replay" : name
    }

    /// The next log line, or nil at the end of the file (never, when looping over a file
    /// with at least one line).
    func next() throws -> LogLine? {
        while true {
            guard let bytes = try nextRawLine() else {
                guard loop, linesThisPass > 0 else { return nil }
                try rewind()
                continue
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let line = format.parse(text[...], source: source) {
                linesThisPass += 1
                return line
            }
            if !text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { skippedLines += 1 }
        }
    }

    private func nextRawLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[position...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { position = newline + 1 }
                return buffer[position..<newline]
            }
            if atEndOfFile {
                guard position < buffer.count else { return nil }
                defer { position = buffer.count }
                return buffer[position...]
            }
            buffer.removeFirst(position)
            position = 0
            let chunk = try file.read(upToCount: Self.chunkSize) ?? Data()
            if chunk.isEmpty { atEndOfFile = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    private func rewind() throws {
        try file.seek(toOffset: 0)
        buffer.removeAll(keepingCapacity: true)
        position = 0
        atEndOfFile = false
        linesThisPass = 0
    }
}
