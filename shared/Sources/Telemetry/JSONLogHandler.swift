// swift-log backend writing one JSON object per line to stderr (stdout stays free for a
// command's own output, such as scores or the dev broker's bootstrap string).
import enum Events.JSONString
import Foundation
import Logging

public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable ([UInt8]) -> Void

    /// `write` receives complete lines; the default writes them to stderr in one call each.
    public init(
        label: String, level: Logger.Level,
        write: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.writeToStandardError
    ) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(contentsOf: #"{"ts":""#.utf8)
        line.append(contentsOf: Self.timestamp().utf8)
        line.append(contentsOf: #"","level":""#.utf8)
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(contentsOf: #"","logger":"#.utf8)
        JSONString.append(label, to: &line)
        line.append(contentsOf: #","msg":"#.utf8)
        JSONString.append("\(event.message)", to: &line)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !Self.reservedKeys.contains(key) {
            line.append(UInt8(ascii: ","))
            JSONString.append(key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONString.append("\(value)", to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        write(line)
    }

    private static let reservedKeys: Set<String> = ["ts", "level", "logger", "msg"]

    @Sendable public static func writeToStandardError(_ line: [UInt8]) {
        line.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }
}
