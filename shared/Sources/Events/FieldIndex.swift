// Finds where each known member of a JSON object starts, then reads them with typed errors.

/// The member names one kind of object can have. Keys are matched as bytes, so no String is
/// made per key.
protocol FieldName {
    init?(jsonKey: UnsafeRawBufferPointer)
    /// A distinct index below `FieldIndex.capacity`.
    var slot: Int { get }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for i in 0..<count where self[i] != expected[i] {
            return false
        }
        return true
    }
}

/// One JSON object, indexed in a single syntax-checking pass: for each known member, the
/// offset of its value (the last one wins when a key repeats). The typed accessors then read
/// only the members a kind needs, so validation can run in a fixed order (schema, then kind,
/// then fields) whatever the key order, and report the field at fault.
struct FieldIndex<Name: FieldName> {
    static var capacity: Int { 32 }

    let input: UnsafeRawBufferPointer
    /// Value offsets by `FieldName.slot`, -1 when absent: a fixed-size vector that indexes
    /// without allocating. Int32 is enough because messages of 2 GiB or more are refused.
    private var offsets = SIMD32<Int32>(repeating: -1)

    /// Indexes the whole input as one top-level object with nothing after it. Non-finite
    /// number tokens are tolerated as values of known members, so the typed read can report
    /// them as an invalid value of that field rather than as broken JSON.
    init(document input: UnsafeRawBufferPointer) throws(EventError) {
        guard input.count <= Int32.max else {
            throw EventError(code: .tooLarge, field: nil, message: "message must be smaller than 2 GiB")
        }
        self.input = input
        var reader = JSONReader(input)
        guard try reader.peekKind() == .object else {
            throw .malformed(at: reader.offset, "the top-level value must be a JSON object")
        }
        try index(&reader, allowingNonFinite: true)
        try reader.expectEnd()
    }

    /// Indexes the object whose value starts at `offset`, which an earlier pass has checked.
    init(nestedAt offset: Int, in input: UnsafeRawBufferPointer) throws(EventError) {
        self.input = input
        var reader = JSONReader(input, offset: offset)
        try index(&reader, allowingNonFinite: false)
    }

    private mutating func index(_ reader: inout JSONReader, allowingNonFinite: Bool) throws(EventError) {
        var more = try reader.beginObject()
        while more {
            if let name = try reader.readKey({ Name(jsonKey: $0) }) {
                reader.skipWhitespace()
                self[name] = reader.offset
                try reader.skipValue(allowingNonFiniteNumber: allowingNonFinite)
            } else {
                try reader.skipValue()
            }
            more = try reader.nextMember()
        }
    }

    private subscript(name: Name) -> Int {
        get { Int(offsets[name.slot]) }
        set { offsets[name.slot] = Int32(truncatingIfNeeded: newValue) }
    }

    func contains(_ name: Name) -> Bool {
        self[name] >= 0
    }

    /// A reader at the member's value, after checking it has the expected kind.
    private func reader(
        at name: Name, _ field: StaticString, expecting kind: JSONValueKind, _ expected: String
    ) throws(EventError) -> JSONReader? {
        let offset = self[name]
        guard offset >= 0 else { return nil }
        var reader = JSONReader(input, offset: offset)
        let found = try reader.peekKind()
        guard found == kind else { throw .wrongType(field, expected: expected, found: found) }
        return reader
    }

    /// Present with a value other than `null`: how optional members are told apart.
    func containsNonNull(_ name: Name) -> Bool {
        let offset = self[name]
        return offset >= 0 && input[offset] != UInt8(ascii: "n")
    }

    /// Present with a number as its value (a member that may be a number or text).
    func isNumber(_ name: Name) -> Bool {
        let offset = self[name]
        guard offset >= 0 else { return false }
        var reader = JSONReader(input, offset: offset)
        return (try? reader.peekKind()) == .number
    }

    // MARK: Typed reads; `field` is the name errors report (dotted when nested)

    /// A string member's decoded bytes, handed to `body` (valid only during the call).
    func withString<R>(
        _ name: Name, _ field: StaticString, _ body: (UnsafeRawBufferPointer) -> R
    ) throws(EventError) -> R {
        guard var reader = try reader(at: name, field, expecting: .string, "a string") else { throw .missing(field) }
        return try reader.readStringBytes(body)
    }

    /// A required string of at most `maxBytes` UTF-8 bytes; empty only if `allowEmpty`.
    func string(
        _ name: Name, _ field: StaticString, maxBytes: Int = .max, allowEmpty: Bool = false
    ) throws(EventError) -> String {
        let value: String? = try withString(name, field) { bytes in
            guard bytes.count <= maxBytes, allowEmpty || !bytes.isEmpty else { return nil }
            return String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
        guard let value else {
            // Only the size is looked at again, never the content.
            let empty = try withString(name, field) { $0.isEmpty }
            throw empty ? .invalid(field, "must not be empty") : .tooLarge(field, limit: maxBytes)
        }
        return value
    }

    /// An optional string: absent and `null` both mean nil.
    func optionalString(_ name: Name, _ field: StaticString, maxBytes: Int = .max) throws(EventError) -> String? {
        guard containsNonNull(name) else { return nil }
        return try string(name, field, maxBytes: maxBytes, allowEmpty: true)
    }

    /// A required RFC 3339 timestamp.
    func timestamp(_ name: Name, _ field: StaticString) throws(EventError) -> String {
        let value: String? = try withString(name, field) { bytes in
            guard Timestamp.isValidRFC3339(bytes) else { return nil }
            return String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
        guard let value else {
            throw .invalid(field, "must be an RFC 3339 date-time such as 2026-11-21T07:04:50.123Z")
        }
        return value
    }

    /// A required finite number.
    func double(_ name: Name, _ field: StaticString) throws(EventError) -> Double {
        guard var reader = try reader(at: name, field, expecting: .number, "a number") else { throw .missing(field) }
        let value = try reader.readDouble()
        guard value.isFinite else { throw .invalid(field, "must be a finite number") }
        return value
    }

    /// A required integer in `Int64`'s range.
    func int64(_ name: Name, _ field: StaticString) throws(EventError) -> Int64 {
        guard var reader = try reader(at: name, field, expecting: .number, "an integer") else { throw .missing(field) }
        guard let value = try reader.readInt64() else {
            throw .invalid(field, "must be an integer between \(Int64.min) and \(Int64.max)")
        }
        return value
    }

    /// A required integer in `Int32`'s range.
    func int32(_ name: Name, _ field: StaticString) throws(EventError) -> Int32 {
        guard var reader = try reader(at: name, field, expecting: .number, "an integer") else { throw .missing(field) }
        guard let wide = try reader.readInt64(), let value = Int32(exactly: wide) else {
            throw .invalid(field, "must be an integer between \(Int32.min) and \(Int32.max)")
        }
        return value
    }

    /// A required boolean.
    func bool(_ name: Name, _ field: StaticString) throws(EventError) -> Bool {
        guard var reader = try reader(at: name, field, expecting: .bool, "a boolean") else { throw .missing(field) }
        return try reader.readBool()
    }

    /// The objects of a required array member, each indexed (an element that is not an object
    /// is a wrong type).
    func objects<Nested: FieldName>(
        _ name: Name, _ field: StaticString, as: Nested.Type = Nested.self
    ) throws(EventError) -> [FieldIndex<Nested>] {
        guard var reader = try reader(at: name, field, expecting: .array, "an array") else { throw .missing(field) }
        var elements: [FieldIndex<Nested>] = []
        var more = try reader.beginArray()
        while more {
            reader.skipWhitespace()
            let found = try reader.peekKind()
            guard found == .object else { throw .wrongType(field, expected: "an array of objects", found: found) }
            elements.append(try FieldIndex<Nested>(nestedAt: reader.offset, in: input))
            try reader.skipValue()
            more = try reader.nextElement()
        }
        return elements
    }

    /// The strings of a required array member: at most `maxCount`, each non-empty and at most
    /// `maxBytes` UTF-8 bytes.
    func strings(
        _ name: Name, _ field: StaticString, maxCount: Int, maxBytes: Int
    ) throws(EventError) -> [String] {
        guard var reader = try reader(at: name, field, expecting: .array, "an array") else { throw .missing(field) }
        var elements: [String] = []
        var more = try reader.beginArray()
        while more {
            reader.skipWhitespace()
            let found = try reader.peekKind()
            guard found == .string else { throw .wrongType(field, expected: "an array of strings", found: found) }
            guard elements.count < maxCount else { throw .invalid(field, "must hold at most \(maxCount) ids") }
            let element: String? = try reader.readStringBytes { bytes in
                guard !bytes.isEmpty, bytes.count <= maxBytes else { return nil }
                return String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
            }
            guard let element else { throw .invalid(field, "must hold ids of 1 to \(maxBytes) bytes") }
            elements.append(element)
            more = try reader.nextElement()
        }
        return elements
    }

    /// The numbers of a required array member, which must hold exactly `count` finite numbers;
    /// `what` says what they stand for in errors ("[temperature, pressure, vibration]").
    func numbers(_ name: Name, _ field: StaticString, count: Int, what: String) throws(EventError) -> [Double] {
        let expected = "an array of \(count) numbers \(what)"
        guard var reader = try reader(at: name, field, expecting: .array, expected) else { throw .missing(field) }
        var elements: [Double] = []
        var more = try reader.beginArray()
        while more {
            reader.skipWhitespace()
            let found = try reader.peekKind()
            guard found == .number else { throw .wrongType(field, expected: expected, found: found) }
            let value = try reader.readDouble()
            guard value.isFinite, elements.count < count else { throw .invalid(field, "must be \(expected)") }
            elements.append(value)
            more = try reader.nextElement()
        }
        guard elements.count == count else { throw .invalid(field, "must be \(expected)") }
        return elements
    }

    /// Hands each member of a required object of numbers to `body` (its key's bytes, decoded
    /// as written, and its value; a non-finite token reaches `body` as ±infinity), in order.
    /// More than `limit` members, or a member that is not a number, is an error.
    func numbers(
        _ name: Name, _ field: StaticString, limit: Int,
        _ body: (UnsafeRawBufferPointer, Double) throws(EventError) -> Void
    ) throws(EventError) {
        guard var reader = try reader(at: name, field, expecting: .object, "an object") else { throw .missing(field) }
        var count = 0
        var more = try reader.beginObject()
        while more {
            let key = try reader.readKey { Array($0) }
            reader.skipWhitespace()
            let found = try reader.peekKind()
            guard found == .number else { throw .wrongType(field, expected: "an object of numbers", found: found) }
            count += 1
            guard count <= limit else {
                throw .invalid(field, "must carry at most \(Reading.maxChannels) channels in all")
            }
            let value = try reader.readDouble()
            try key.withUnsafeBytes { bytes in Result { () throws(EventError) in try body(bytes, value) } }.get()
            more = try reader.nextMember()
        }
    }

    /// The index of a nested object member; nil when absent or `null` if `optional`.
    func object<Nested: FieldName>(
        _ name: Name, _ field: StaticString, optional: Bool, as: Nested.Type = Nested.self
    ) throws(EventError) -> FieldIndex<Nested>? {
        if optional, !containsNonNull(name) { return nil }
        guard let reader = try reader(at: name, field, expecting: .object, "an object") else { throw .missing(field) }
        return try FieldIndex<Nested>(nestedAt: reader.offset, in: input)
    }
}
