// Labeled log files for training (JSONL or Loghub-style), and the line formats `classify` reads.
import Foundation

/// How a file of log lines is written.
public enum LogLineFormat: String, CaseIterable, Sendable {
    /// One JSON object per line: `{"message": "...", "label": "critical" | "not_critical", "level": "..."}`
    /// (`level` optional; `label` ignored when classifying).
    case jsonl
    /// Loghub's labeled logs: the first token is `-` for a routine line, or an alert category
    /// (critical); the rest of the line is the message.
    case loghub
    /// The whole line is the message (classifying only: it carries no label).
    case raw
}

public enum LabeledLogs {
    /// At most this many bad lines are listed in an error; the rest are counted.
    static let listedErrors = 10

    /// Reads every labeled line of `path`. Blank lines are skipped; any bad line fails the
    /// read, and the error lists the bad lines by number (e.g. "logs.jsonl line 7: label is 'high', ...").
    public static func read(path: String, format: LogLineFormat) throws(ModelError) -> [LabeledLog] {
        let bytes: [UInt8]
        do {
            bytes = try SystemFiles.read(path: path)
        } catch {
            throw error.prefixed("cannot read \(path)")
        }
        return try parse(bytes, name: path, format: format)
    }

    /// The same as `read(path:format:)` for bytes in memory; `name` stands for the file in errors.
    public static func parse(_ bytes: [UInt8], name: String, format: LogLineFormat) throws(ModelError) -> [LabeledLog] {
        guard format != .raw else { throw ModelError("raw lines carry no label: train from jsonl or loghub lines") }
        var examples: [LabeledLog] = []
        var errors: [String] = []
        var badLines = 0
        bytes.withUnsafeBufferPointer { buffer in
            var reader = LineReader(bytes: buffer)
            while let line = reader.nextLine() {
                guard !line.isBlank else { continue }
                switch parseLabeled(line.bytes, format: format) {
                case .success(let example):
                    examples.append(example)
                case .failure(let error):
                    badLines += 1
                    if errors.count < listedErrors { errors.append("\(name) line \(line.number): \(error.message)") }
                }
            }
        }
        if badLines > 0 {
            var message = errors.joined(separator: "\n")
            if badLines > errors.count { message += "\n... and \(badLines - errors.count) more bad lines" }
            throw ModelError(badLines == 1 ? message : "\(badLines) bad lines:\n" + message)
        }
        guard !examples.isEmpty else { throw ModelError("\(name) has no labeled lines") }
        return examples
    }

    /// The message (and level) of one line to classify; the label token or field, if any, is ignored.
    public static func unlabeled(
        _ line: UnsafeBufferPointer<UInt8>, format: LogLineFormat
    ) -> Result<(message: String, level: String?), ModelError> {
        switch format {
        case .raw:
            guard let message = String(validating: line, as: UTF8.self) else {
                return .failure(ModelError("not valid UTF-8"))
            }
            return .success((message, nil))
        case .loghub:
            return loghubFields(line).map { ($0.message, nil) }
        case .jsonl:
            return jsonFields(line).map { ($0.message, $0.level) }
        }
    }

    /// One labelled line (loghub or jsonl with `label`), as `read` parses each.
    public static func labeled(
        _ line: UnsafeBufferPointer<UInt8>, format: LogLineFormat
    ) -> Result<LabeledLog, ModelError> {
        parseLabeled(line, format: format)
    }

    private static func parseLabeled(
        _ line: UnsafeBufferPointer<UInt8>, format: LogLineFormat
    ) -> Result<LabeledLog, ModelError> {
        switch format {
        case .loghub:
            return loghubFields(line).map { LabeledLog(message: $0.message, critical: $0.label != "-") }
        case .jsonl, .raw:
            return jsonFields(line).flatMap { fields in
                switch fields.label {
                case "critical": .success(LabeledLog(message: fields.message, level: fields.level, critical: true))
                case "not_critical": .success(LabeledLog(message: fields.message, level: fields.level, critical: false))
                case nil: .failure(ModelError("missing field 'label' (\"critical\" or \"not_critical\")"))
                case let label?:
                    .failure(ModelError("label is '\(label.prefix(40))', expected \"critical\" or \"not_critical\""))
                }
            }
        }
    }

    /// `<label> <message...>`: the first token, then the rest after the spaces that follow it.
    private static func loghubFields(
        _ line: UnsafeBufferPointer<UInt8>
    ) -> Result<(label: String, message: String), ModelError> {
        guard let text = String(validating: line, as: UTF8.self) else { return .failure(ModelError("not valid UTF-8")) }
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
            return .failure(ModelError("expected a label token and a message, found one token"))
        }
        let message = trimmed[space...].drop { $0 == " " || $0 == "\t" }
        guard !message.isEmpty else {
            return .failure(ModelError("expected a label token and a message, found one token"))
        }
        return .success((String(trimmed[..<space]), String(message)))
    }

    /// One labeled line: `message` required; `label` and `level` optional (null or absent).
    private struct JSONLine: Decodable {
        var message: String
        var label: String?
        var level: String?
    }

    private static func jsonFields(
        _ line: UnsafeBufferPointer<UInt8>
    ) -> Result<(message: String, label: String?, level: String?), ModelError> {
        do throws(ModelError) {
            let fields = try ArtifactJSON.decode(JSONLine.self, Data(line))
            return .success((fields.message, fields.label, fields.level))
        } catch {
            return .failure(error)
        }
    }
}
