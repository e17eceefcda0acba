// Malformed messages for the scorer, by category, each with the reason codes it may be
// dead-lettered with (EventError.Code, or empty_message). Seeded: the same seed gives the
// same messages. Each key is `m<index>.<category>`, so a dead letter leads back to its cause.
import Foundation
import Models

struct MalformedMessage {
    var key: String
    var category: MalformedMessages.Category
    var value: [UInt8]
}

enum MalformedMessages {
    enum Category: String, CaseIterable {
        case randomBytes = "random_bytes", truncatedJSON = "truncated_json", notAnObject = "not_an_object"
        case invalidUTF8 = "invalid_utf8", deepNesting = "deep_nesting", wrongType = "wrong_type"
        case missingField = "missing_field", invalidValue = "invalid_value", nonFiniteNumber = "non_finite_number"
        case unsupportedSchema = "unsupported_schema", unknownKind = "unknown_kind", hugeLogMessage = "huge_log_message"
        case hugeField = "huge_field", hugePayload = "huge_payload", empty

        /// The reason codes a message of this category may be dead-lettered with.
        var allowed: Set<String> {
            switch self {
            case .randomBytes, .truncatedJSON, .invalidUTF8, .deepNesting: ["malformed_json"]
            case .notAnObject: ["malformed_json", "wrong_type"]
            case .wrongType: ["wrong_type"]
            case .missingField: ["missing_field"]
            case .invalidValue: ["invalid_value"]
            case .nonFiniteNumber: ["invalid_value", "malformed_json"]
            case .unsupportedSchema: ["unsupported_schema"]
            case .unknownKind: ["unknown_kind"]
            case .hugeLogMessage: ["too_large"]
            case .hugeField: ["too_large", "invalid_value"]
            case .hugePayload: ["too_large", "invalid_value", "malformed_json"]
            case .empty: ["empty_message"]
            }
        }

        /// Share of the messages (random bytes take the rest).
        var share: Double {
            switch self {
            case .randomBytes: 0
            case .truncatedJSON: 0.10
            case .notAnObject, .invalidUTF8, .nonFiniteNumber: 0.04
            case .deepNesting, .hugeField, .empty: 0.01
            case .wrongType: 0.18
            case .missingField: 0.10
            case .invalidValue: 0.08
            case .unsupportedSchema, .unknownKind, .hugeLogMessage: 0.03
            case .hugePayload: 0.002
            }
        }
    }

    /// `count` messages, at least one of every category.
    static func generate(count: Int, seed: UInt64) -> [MalformedMessage] {
        var random = SplitMix64(seed: seed)
        var plan = Category.allCases.filter { $0 != .randomBytes }.flatMap { category in
            [Category](repeating: category, count: max(1, Int(Double(count) * category.share)))
        }
        plan += [Category](repeating: .randomBytes, count: max(0, count - plan.count))
        plan.shuffle(using: &random)
        return plan.enumerated().map { index, category in
            MalformedMessage(
                key: "m\(index).\(category.rawValue)", category: category,
                value: make(category, index: index, random: &random))
        }
    }

    private static func event(_ index: Int, log: Bool = false) -> [String: Any] {
        log
            ? [
                "schema": 1, "kind": "log", "id": "malformed-\(index)", "ts": "2026-11-21T08:00:00Z", "source": "db-1",
                "message": "ok",
            ]
            : [
                "schema": 1, "kind": "reading", "id": "malformed-\(index)", "ts": "2026-11-21T08:00:00Z",
                "device_id": "edge-1",
                "temperature": 21.5, "pressure": 1013.0, "vibration": 0.02,
            ]
    }

    private static func json(_ object: Any) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]))
    }

    private static func replacing(_ bytes: [UInt8], _ old: String, _ new: [UInt8]) -> [UInt8] {
        let pattern = Array(old.utf8)
        guard let start = bytes.indices.first(where: { bytes[$0...].starts(with: pattern) }) else { return bytes }
        return Array(bytes[..<start]) + new + Array(bytes[(start + pattern.count)...])
    }

    private static func make(_ category: Category, index: Int, random: inout SplitMix64) -> [UInt8] {
        switch category {
        case .randomBytes:
            return (0..<Int.random(in: 1...600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        case .truncatedJSON:
            let full = json(event(index, log: Double.random(in: 0..<1, using: &random) < 0.3))
            return Array(full.prefix(Int.random(in: 1...(full.count - 1), using: &random)))
        case .notAnObject:
            let choices: [[UInt8]] = [
                Array("[]".utf8), Array("[1,2,3]".utf8), Array("42".utf8), Array("-0.5e3".utf8),
                Array("\"reading\"".utf8),
                Array("null".utf8), Array("true".utf8), Array("false".utf8), json([event(index)]), Array("  ".utf8),
                Array("{}{}".utf8), json(event(index)) + Array(" trailing".utf8),
            ]
            return choices.randomElement(using: &random)!
        case .invalidUTF8:
            let bad: [[UInt8]] = [
                [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80],
            ]
            let chosen = bad.randomElement(using: &random)!
            let log = json(event(index, log: true))
            return Bool.random(using: &random)
                ? replacing(log, "\"ok\"", Array("\"o".utf8) + chosen + Array("k\"".utf8))
                : replacing(log, "\"db-1\"", Array("\"db".utf8) + chosen + Array("\"".utf8))
        case .deepNesting:
            let depth = [200, 1000, 10000, 100_000].randomElement(using: &random)!
            let (opener, closer) = Bool.random(using: &random) ? ("[", "]") : ("{\"a\":", "}")
            let inner = String(repeating: opener, count: depth) + "1" + String(repeating: closer, count: depth)
            return Array(
                (#"{"schema":1,"kind":"reading","id":"d","ts":"2026-11-21T08:00:00Z","device_id":"edge-1","temperature":"#
                    + inner + "}").utf8)
        case .wrongType:
            let log = Double.random(in: 0..<1, using: &random) < 0.25
            var object = event(index, log: log)
            let strings = log ? ["id", "ts", "source", "message", "kind"] : ["id", "ts", "device_id", "kind"]
            let numbers = log ? [] : ["temperature", "pressure", "vibration"]
            let field = (strings + numbers).randomElement(using: &random)!
            let notStrings: [Any] = [1.5, 7, true, false, NSNull(), [Any](), [String: Any](), ["a"], ["a": "b"]]
            let notNumbers: [Any] = [
                "21.5", "text", "", true, NSNull(), [Any](), [String: Any](), [1.5], ["value": 1.5],
            ]
            object[field] = (strings.contains(field) ? notStrings : notNumbers).randomElement(using: &random)!
            return json(object)
        case .missingField:
            let log = Double.random(in: 0..<1, using: &random) < 0.25
            var object = event(index, log: log)
            let fields =
                log
                ? ["id", "ts", "source", "message", "kind", "schema"]
                : ["id", "ts", "device_id", "temperature", "pressure", "vibration", "kind", "schema"]
            for field in fields.shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random)) {
                object[field] = nil
            }
            return json(object)
        case .invalidValue:
            var object = event(index)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: object["device_id"] = ""
            case 1:
                object["ts"] = ["yesterday", "2026-13-45T99:99:99Z", "", "2026-11-21 08:00:00", "1700000000"]
                    .randomElement(using: &random)!
            case 2: object["id"] = ""
            default:
                object = event(index, log: true)
                object["source"] = ""
            }
            return json(object)
        case .nonFiniteNumber:
            let token = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "nan", "inf"].randomElement(using: &random)!
            let field = ["temperature", "pressure", "vibration"].randomElement(using: &random)!
            let text = String(decoding: json(event(index)), as: UTF8.self)
            let value = text.range(of: "\"\(field)\":")!.upperBound
            let end = text[value...].firstIndex { $0 == "," || $0 == "}" }!
            return Array((text[..<value] + token + text[end...]).utf8)
        case .unsupportedSchema:
            var object = event(index, log: Double.random(in: 0..<1, using: &random) < 0.3)
            object["schema"] = [0, 2, 99, -1].randomElement(using: &random)!
            return json(object)
        case .unknownKind:
            var object = event(index)
            object["kind"] = ["metric", "READING", "", "logs", "trace", "dead_letter"].randomElement(using: &random)!
            return json(object)
        case .hugeLogMessage:
            var object = event(index, log: true)
            object["message"] = String(
                repeating: "disk failure ", count: Int.random(in: (8 * 1024 + 1)...(40 * 1024), using: &random) / 13 + 1
            )
            return json(object)
        case .hugeField:
            // Far over any sane size for a field with no stated limit: still a dead letter, never a crash.
            var object = event(index)
            let field = ["device_id", "id", "ts"].randomElement(using: &random)!
            object[field] = String(repeating: "x", count: Int.random(in: (64 * 1024)...(256 * 1024), using: &random))
            if field != "ts" { object["ts"] = "not a time" }
            return json(object)
        case .hugePayload:
            // Near the broker's 1 MB message limit: a log message of 300 to 600 KB.
            var object = event(index, log: true)
            object["message"] = String(
                repeating: "A", count: Int.random(in: (300 * 1024)...(600 * 1024), using: &random))
            return json(object)
        case .empty:
            return []
        }
    }
}
