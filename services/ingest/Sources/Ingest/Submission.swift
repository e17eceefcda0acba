// A request body as events: one JSON object, a JSON array, or NDJSON lines, all-or-nothing.
// Pure: no I/O, so every rejection is tested without a server.
import Events
import Telemetry

/// How the body is written, from its Content-Type.
enum BodyFormat: Sendable {
    case json, ndjson

    /// nil when the media type is neither JSON nor NDJSON (parameters such as charset are ignored).
    init?(contentType: String?) {
        guard let contentType else { return nil }
        let mediaType =
            contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
        switch mediaType {
        case "application/json": self = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl": self = .ndjson
        default: return nil
        }
    }
}

enum Submission {
    /// Every event of the body, or the first reason to refuse the whole request.
    static func events(
        in body: UnsafeRawBufferPointer, format: BodyFormat, kind: InboundKind, maxEvents: Int,
        now: String
    ) throws(APIError) -> [InboundEvent] {
        let rows: [(number: Int, range: Range<Int>)]
        switch format {
        case .json: rows = try jsonRows(body)
        case .ndjson: rows = try ndjsonRows(body, maxEvents: maxEvents)
        }
        guard !rows.isEmpty else { throw .badRequest("empty", "the body holds no events") }
        guard rows.count <= maxEvents else { throw tooMany(maxEvents) }
        var events: [InboundEvent] = []
        events.reserveCapacity(rows.count)
        for (number, range) in rows {
            do {
                events.append(
                    try EventCodec.decodeSubmission(UnsafeRawBufferPointer(rebasing: body[range]), as: kind, now: now))
            } catch {
                throw .badRequest(
                    error.code.rawValue, "row \(number): \(error.description)", row: number, field: error.field)
            }
        }
        return events
    }

    private static func tooMany(_ maxEvents: Int) -> APIError {
        APIError(
            status: 413, code: "too_many_events", message: "at most \(maxEvents) events per request; split the batch")
    }

    /// One object is one row; an array's elements are rows 1, 2, ...
    private static func jsonRows(_ body: UnsafeRawBufferPointer) throws(APIError) -> [(number: Int, range: Range<Int>)]
    {
        guard let first = body.firstIndex(where: { !isJSONSpace($0) }) else { return [] }
        guard body[first] == UInt8(ascii: "[") else { return [(1, 0..<body.count)] }
        do {
            return try EventCodec.arrayElements(body).enumerated().map { ($0 + 1, $1) }
        } catch {
            throw .badRequest(error.code.rawValue, "the JSON array is malformed: \(error.description)")
        }
    }

    /// Each non-blank line is a row, numbered by its line.
    private static func ndjsonRows(
        _ body: UnsafeRawBufferPointer, maxEvents: Int
    ) throws(APIError) -> [(number: Int, range: Range<Int>)] {
        var rows: [(number: Int, range: Range<Int>)] = []
        var start = 0
        var line = 0
        while start < body.count {
            line += 1
            var end = start
            while end < body.count && body[end] != 0x0A { end += 1 }
            if body[start..<end].contains(where: { !isJSONSpace($0) }) {
                guard rows.count < maxEvents else { throw tooMany(maxEvents) }
                rows.append((line, start..<end))
            }
            start = end + 1
        }
        return rows
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
