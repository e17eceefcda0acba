// What every model artifact shares: files written atomically, a content hash for its version,
// and JSON through Codable with errors that name the dotted path at fault.
import Events
import Foundation

/// Reading and writing artifact files, with errors that start with what and where.
enum ArtifactFile {
    static func load<Model>(
        path: String, what: String,
        _ decode: ([UInt8]) throws(ModelError) -> Model
    ) throws(ModelError) -> Model {
        let bytes: [UInt8]
        do {
            bytes = try SystemFiles.read(path: path)
        } catch {
            throw error.prefixed("cannot read \(what) \(path)")
        }
        do {
            return try decode(bytes)
        } catch {
            throw error.prefixed("\(what) \(path)")
        }
    }

    /// Atomically: a temporary file in the same directory, flushed, then renamed over `path`.
    static func write(_ bytes: [UInt8], to path: String, what: String) throws(ModelError) {
        do {
            try SystemFiles.writeAtomically(bytes, to: path)
        } catch {
            throw error.prefixed("cannot write \(what) \(path)")
        }
    }
}

struct FNV1a64 {
    var state: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(byte: UInt8) {
        state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }

    mutating func add(bytes: some Sequence<UInt8>) {
        for byte in bytes { add(byte: byte) }
    }

    mutating func add(_ value: Int64) {
        add(bits: UInt64(bitPattern: value))
    }

    mutating func add(_ value: Double) {
        add(bits: value.bitPattern)
    }

    /// The first 12 hex digits of the hash: an artifact's `version`.
    var versionString: String {
        let hex = String(state, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }

    private mutating func add(bits: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            add(byte: UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
    }
}

/// A model stored as a JSON artifact: loading and writing files is the same for every model.
public protocol ModelArtifact: Sendable {
    /// What the artifact is called in errors: `model artifact`, `log model artifact`.
    static var artifactName: String { get }
    init(artifactJSON: some Collection<UInt8>) throws(ModelError)
    func artifactJSON() throws(ModelError) -> [UInt8]
}

extension ModelArtifact {
    /// Loads the artifact at `path`; errors start with the path.
    public static func load(path: String) throws(ModelError) -> Self {
        try ArtifactFile.load(path: path, what: artifactName) { (bytes) throws(ModelError) in
            try Self(artifactJSON: bytes)
        }
    }

    /// Writes the artifact to `path` atomically (a temporary file in the same directory,
    /// flushed, then renamed over `path`).
    public func write(to path: String) throws(ModelError) {
        try ArtifactFile.write(try artifactJSON(), to: path, what: Self.artifactName)
    }
}

extension IsolationForest: ModelArtifact {
    public static let artifactName = "model artifact"
}

extension LogClassifier: ModelArtifact {
    public static let artifactName = "log model artifact"
}

/// Artifacts as JSON: Foundation's Codable with snake_case keys; a decoding error becomes a
/// ModelError that names the field (`trees.count`, `feature_names[2]`) and what it should be.
/// Checks between fields are each model's own (`init(artifactJSON:)`).
enum ArtifactJSON {
    /// Every artifact starts with these; they are checked before the rest is decoded, so a
    /// future format is refused by its version rather than by the first field that moved.
    private struct Header: Decodable {
        var formatVersion: Int
        var model: String?
    }

    static func decode<Artifact: Decodable>(
        _ type: Artifact.Type, from bytes: some Collection<UInt8>,
        formatVersion: Int, model: String
    ) throws(ModelError) -> Artifact {
        let data = Data(bytes)
        let header = try decode(Header.self, data)
        guard header.formatVersion == formatVersion else {
            throw ModelError(
                "format_version is \(header.formatVersion), but this build reads only format_version \(formatVersion)")
        }
        guard let found = header.model else { throw ModelError("missing field 'model'") }
        guard found == model else { throw ModelError("model is '\(found.prefix(40))', expected '\(model)'") }
        return try decode(Artifact.self, data)
    }

    /// One object, sorted keys, a newline at the end. Doubles are written so that they read back
    /// bit for bit, so writing a loaded artifact gives the same bytes.
    static func encode(_ artifact: some Encodable) throws(ModelError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(artifact)) + [UInt8(ascii: "\n")]
        } catch {
            throw ModelError("cannot encode the artifact: \(error)")
        }
    }

    /// A lone JSON object (a line of labeled logs), with the same errors as an artifact's fields.
    static func decode<Value: Decodable>(_ type: Value.Type, _ data: Data) throws(ModelError) -> Value {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(Value.self, from: data)
        } catch let error as DecodingError {
            throw ModelError(describe(error))
        } catch {
            throw ModelError("not valid JSON: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let found = found(
                in: context.debugDescription, isNull: { if case .valueNotFound = error { true } else { false } }())
            if context.codingPath.isEmpty { return "expected a JSON object\(found)" }
            return "field '\(path(context.codingPath))' should be \(kind(type))\(found)"
        case .dataCorrupted(let context):
            // Foundation puts the position and cause in the underlying error's debug description.
            let underlying = context.underlyingError.map { $0 as NSError }
            let reason = underlying?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
            if context.codingPath.isEmpty { return "not valid JSON: \(reason)" }
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "not a valid artifact: \(error)"
        }
    }

    /// `trees.features[17]`, with the keys as the file spells them.
    private static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + snakeCase(key.stringValue)
            }
        }
        return text
    }

    private static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func kind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }

    /// `, found a string` from Foundation's "Expected to decode Int but found a string instead."
    private static func found(in description: String, isNull: Bool) -> String {
        if isNull { return ", found null" }
        guard let start = description.range(of: "but found "),
            let end = description.range(of: " instead", range: start.upperBound..<description.endIndex)
        else { return "" }
        var kind = String(description[start.upperBound..<end.lowerBound])
        for article in ["a ", "an "] where kind.hasPrefix(article) { kind.removeFirst(article.count) }
        return ", found " + (kind.first.map { "aeiou".contains($0) } == true ? "an " : "a ") + kind
    }
}

/// Checks shared by the artifacts' own validation.
enum ArtifactCheck {
    static func finite(_ value: Double, _ name: String) throws(ModelError) -> Double {
        guard value.isFinite else { throw ModelError("\(name) is \(value), expected a finite number") }
        return value
    }

    static func count<Element>(_ elements: [Element], _ name: String, expected: Int, meaning: String) throws(ModelError)
    {
        guard elements.count == expected else {
            throw ModelError("\(name) has \(elements.count) entries, expected \(expected) (\(meaning))")
        }
    }

    /// Exactly `expected` finite numbers.
    static func finite(_ values: [Double], _ name: String, expected: Int, meaning: String) throws(ModelError) {
        try count(values, name, expected: expected, meaning: meaning)
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw ModelError("\(name)[\(index)] is \(values[index]), expected a finite number")
        }
    }

    /// The stored `version` must be the content's hash: anything else was edited or corrupted.
    static func version(_ stored: String, matches content: String) throws(ModelError) {
        guard stored == content else {
            throw ModelError(
                """
                version '\(stored.prefix(40))' does not match the content, which hashes to '\(content)': the file \
                was edited or corrupted
                """
            )
        }
    }

    static func timestamp(_ text: String, _ name: String) throws(ModelError) {
        guard Timestamp.isValidRFC3339(text) else {
            throw ModelError("\(name) '\(text.prefix(40))' is not an RFC 3339 timestamp")
        }
    }
}
