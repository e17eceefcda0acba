// The one error type of event decoding: a code to route on, the field at fault, and a message.

/// Why an event could not be decoded. Messages name fields and limits, never payload values,
/// so an error can be logged and written to a dead-letter topic as is.
public struct EventError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case malformedJSON = "malformed_json"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case invalidValue = "invalid_value"
        case tooLarge = "too_large"
        case unsupportedSchema = "unsupported_schema"
        case unknownKind = "unknown_kind"
    }

    public var code: Code
    /// The JSON field at fault, dotted for nested fields (`truth.anomaly`); nil for syntax errors.
    public var field: String?
    public var message: String

    public init(code: Code, field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// `code: field: message`, e.g. `missing_field: device_id: required field is missing`.
    public var description: String {
        if let field {
            return "\(code.rawValue): \(field): \(message)"
        }
        return "\(code.rawValue): \(message)"
    }
}

// Constructors used by the decoder; they run only on the error path.
extension EventError {
    static func malformed(at offset: Int, _ what: String) -> EventError {
        EventError(code: .malformedJSON, field: nil, message: "invalid JSON at byte offset \(offset): \(what)")
    }

    static func missing(_ field: StaticString) -> EventError {
        EventError(code: .missingField, field: "\(field)", message: "required field is missing")
    }

    static func wrongType(_ field: StaticString, expected: String, found: JSONValueKind) -> EventError {
        EventError(code: .wrongType, field: "\(field)", message: "expected \(expected), found \(found.name)")
    }

    static func invalid(_ field: StaticString, _ why: String) -> EventError {
        EventError(code: .invalidValue, field: "\(field)", message: why)
    }

    static func tooLarge(_ field: StaticString, limit: Int) -> EventError {
        EventError(code: .tooLarge, field: "\(field)", message: "must be at most \(limit) UTF-8 bytes")
    }
}
