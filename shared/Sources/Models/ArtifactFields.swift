// What every model artifact shares: a content hash for its version, and reading JSON fields
// with errors that name the dotted path at fault.

/// Reading and writing artifact files, with errors that start with what and where.
enum ArtifactFile {
    static func load<Model>(path: String, what: String,
                            _ decode: ([UInt8]) throws(ModelError) -> Model) throws(ModelError) -> Model {
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

extension JSONValue {
    var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .unsignedInteger(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    /// An integer literal, or a number with an exactly integral value, that fits in Int.
    var exactInteger: Int? {
        switch self {
        case .integer(let value): Int(exactly: value)
        case .number(let value): Int(exactly: value)
        default: nil
        }
    }
}

/// One JSON object of the artifact, with its dotted path for error messages.
struct ArtifactFields {
    let members: [String: JSONValue]
    let path: String

    init(value: JSONValue, path: String) throws(ModelError) {
        guard case .object(let members) = value else {
            throw ModelError(path.isEmpty ? "the artifact should be a JSON object, found \(value.kindName)"
                                          : "field '\(path)' should be an object, found \(value.kindName)")
        }
        self.members = members
        self.path = path
    }

    /// The two fields every artifact opens with: its format version and which model it is.
    func checkHeader(formatVersion expected: Int, model expectedModel: String) throws(ModelError) {
        let formatVersion = try integer("format_version")
        guard formatVersion == expected else {
            throw ModelError("format_version is \(formatVersion), but this build reads only format_version \(expected)")
        }
        let model = try string("model")
        guard model == expectedModel else {
            throw ModelError("model is '\(model.prefix(40))', expected '\(expectedModel)'")
        }
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) throws(ModelError) -> JSONValue {
        guard let value = members[key] else { throw ModelError("missing field '\(name(key))'") }
        return value
    }

    func isNull(_ key: String) throws(ModelError) -> Bool {
        if case .null = try value(key) { return true }
        return false
    }

    func object(_ key: String) throws(ModelError) -> ArtifactFields {
        try ArtifactFields(value: value(key), path: name(key))
    }

    func string(_ key: String) throws(ModelError) -> String {
        let value = try value(key)
        guard case .string(let text) = value else {
            throw ModelError("field '\(name(key))' should be a string, found \(value.kindName)")
        }
        return text
    }

    func integer(_ key: String) throws(ModelError) -> Int {
        let value = try value(key)
        guard let integer = value.exactInteger else {
            throw ModelError("field '\(name(key))' should be an integer, found \(describe(value))")
        }
        return integer
    }

    func unsignedInteger(_ key: String) throws(ModelError) -> UInt64 {
        let value = try value(key)
        switch value {
        case .unsignedInteger(let integer): return integer
        case .integer(let integer) where integer >= 0: return UInt64(integer)
        default: throw ModelError("field '\(name(key))' should be an unsigned integer, found \(describe(value))")
        }
    }

    /// A finite number.
    func double(_ key: String) throws(ModelError) -> Double {
        let value = try value(key)
        guard let number = value.number else {
            throw ModelError("field '\(name(key))' should be a number, found \(value.kindName)")
        }
        guard number.isFinite else { throw ModelError("\(name(key)) is \(number), expected a finite number") }
        return number
    }

    /// A finite number, or nil when the key is absent or null.
    func optionalDouble(_ key: String) throws(ModelError) -> Double? {
        guard let value = members[key] else { return nil }
        if case .null = value { return nil }
        return try double(key)
    }

    func array(_ key: String) throws(ModelError) -> [JSONValue] {
        let value = try value(key)
        guard case .array(let elements) = value else {
            throw ModelError("field '\(name(key))' should be an array, found \(value.kindName)")
        }
        return elements
    }

    func array(_ key: String, count: Int, countMeaning: String) throws(ModelError) -> [JSONValue] {
        let elements = try array(key)
        guard elements.count == count else {
            throw ModelError("\(name(key)) has \(elements.count) entries, expected \(count) (\(countMeaning))")
        }
        return elements
    }

    /// An array of exactly `count` finite numbers.
    func doubles(_ key: String, count: Int, countMeaning: String) throws(ModelError) -> [Double] {
        let elements = try array(key, count: count, countMeaning: countMeaning)
        var numbers = [Double]()
        numbers.reserveCapacity(count)
        for (index, element) in elements.enumerated() {
            guard let number = element.number else {
                throw ModelError("\(name(key))[\(index)] should be a number, found \(element.kindName)")
            }
            guard number.isFinite else {
                throw ModelError("\(name(key))[\(index)] is \(number), expected a finite number")
            }
            numbers.append(number)
        }
        return numbers
    }

    private func describe(_ value: JSONValue) -> String {
        if case .number(let number) = value { return "\(number)" }
        return value.kindName
    }
}
