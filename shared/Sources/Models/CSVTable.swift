// Numeric CSV files (benchmark datasets, training exports) into a FeatureMatrix and labels.

/// Reads comma-separated tables with a header line. Fields may be wrapped in double quotes
/// (a doubled quote inside is one quote; a quoted field cannot span lines); blank lines are
/// skipped; a UTF-8 byte-order mark and `\r\n` line ends are accepted.
public enum CSVTable {
    /// Reads numeric features. `features` nil = every column except `labelColumn`. Errors name
    /// file, line number and column, e.g. "cardio.csv line 17: column f3: 'abc' is not a number".
    /// Label values are "1"/"true" (anomalous) or "0"/"false" (normal).
    public static func read(
        path: String, features: [String]?, labelColumn: String?
    ) throws(ModelError) -> (data: FeatureMatrix, featureNames: [String], labels: [Bool]?) {
        let bytes: [UInt8]
        do {
            bytes = try SystemFiles.read(path: path)
        } catch {
            throw error.prefixed("cannot read \(path)")
        }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(ModelError) in
            try parse(buffer, name: path, features: features, labelColumn: labelColumn)
        }
    }

    /// The same as `read(path:...)` for text already in memory; `name` stands for the file in errors.
    public static func read(
        text: String, name: String, features: [String]?, labelColumn: String?
    ) throws(ModelError) -> (data: FeatureMatrix, featureNames: [String], labels: [Bool]?) {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(ModelError) in
                try parse(buffer, name: name, features: features, labelColumn: labelColumn)
            }
        }
        return try result.get()
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, name: String, features: [String]?, labelColumn: String?
    ) throws(ModelError) -> (data: FeatureMatrix, featureNames: [String], labels: [Bool]?) {
        var reader = LineReader(bytes: bytes)
        var fields = FieldSplitter()

        // The header: the first non-blank line.
        var header: [String] = []
        while let line = reader.nextLine() {
            if line.isBlank { continue }
            try fields.split(line.bytes, name: name, lineNumber: line.number)
            for index in 0..<fields.count {
                header.append(try fields.withField(index) { String(decoding: $0, as: UTF8.self) })
            }
            var seen: [String: Int] = [:]
            for (index, column) in header.enumerated() {
                if let first = seen[column] {
                    throw ModelError(
                        "\(name) line \(line.number): columns \(first + 1) and \(index + 1) are both named '\(column)'")
                }
                seen[column] = index
            }
            break
        }
        guard !header.isEmpty else { throw ModelError("\(name): no header line (the file is empty)") }

        func columnIndex(_ column: String) throws(ModelError) -> Int {
            guard let index = header.firstIndex(of: column) else {
                let listed = header.prefix(12).joined(separator: ", ") + (header.count > 12 ? ", …" : "")
                throw ModelError("\(name): no column named '\(column)' in the header (columns: \(listed))")
            }
            return index
        }
        let labelIndex: Int?
        if let labelColumn { labelIndex = try columnIndex(labelColumn) } else { labelIndex = nil }
        let featureNames = features ?? header.enumerated().filter { $0.offset != labelIndex }.map(\.element)
        guard !featureNames.isEmpty else { throw ModelError("\(name): no feature columns selected") }
        var featureIndices: [Int] = []
        for feature in featureNames {
            let index = try columnIndex(feature)
            guard index != labelIndex else {
                throw ModelError("\(name): column '\(feature)' is both a feature and the label column")
            }
            guard !featureIndices.contains(index) else {
                throw ModelError("\(name): feature '\(feature)' is selected twice")
            }
            featureIndices.append(index)
        }

        var data = FeatureMatrix(columns: featureIndices.count)
        var labels: [Bool]? = labelIndex == nil ? nil : []
        var row = [Double](repeating: 0, count: featureIndices.count)
        while let line = reader.nextLine() {
            if line.isBlank { continue }
            try fields.split(line.bytes, name: name, lineNumber: line.number)
            guard fields.count == header.count else {
                throw ModelError(
                    "\(name) line \(line.number): \(fields.count) fields, expected \(header.count) as in the header")
            }
            for (position, index) in featureIndices.enumerated() {
                row[position] = try fields.withField(index) { (field) throws(ModelError) -> Double in
                    guard let value = parseDecimal(field) else {
                        throw ModelError(
                            "\(name) line \(line.number): column \(header[index]): \(quote(field)) is not a number")
                    }
                    guard value.isFinite else {
                        throw ModelError(
                            """
                            \(name) line \(line.number): column \(header[index]): \(quote(field)) is not a finite \
                            number
                            """
                        )
                    }
                    return value
                }
            }
            data.append(row: row)
            if let labelIndex {
                let label = try fields.withField(labelIndex) { (field) throws(ModelError) -> Bool in
                    guard let label = parseLabel(field) else {
                        throw ModelError(
                            "\(name) line \(line.number): column \(header[labelIndex]): \(quote(field)) is not a label "
                                + "(expected 1 or true for anomalous, 0 or false for normal)")
                    }
                    return label
                }
                labels?.append(label)
            }
        }
        return (data, featureNames, labels)
    }

    private static func parseLabel(_ field: UnsafeBufferPointer<UInt8>) -> Bool? {
        switch String(decoding: field, as: UTF8.self).lowercased() {
        case "1", "true": true
        case "0", "false": false
        default: nil
        }
    }

    private static func quote(_ field: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: field.prefix(40), as: UTF8.self)
        return "'\(text)\(field.count > 40 ? "…" : "")'"
    }
}

/// Lines of a byte buffer without their `\n` / `\r\n`, numbered from 1.
/// Splits one line into fields, reusing its buffers from line to line. Unquoted fields are
/// trimmed of spaces and tabs; quoted fields keep their content, with `""` read as `"`.
private struct FieldSplitter {
    /// Unquoted content for fields that needed unescaping; other fields point into the line.
    private var unescaped: [UInt8] = []
    private var ranges: [(inLine: Bool, start: Int, end: Int)] = []
    private var line = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    var count: Int { ranges.count }

    /// Calls `body` with the bytes of field `index`, valid only during the call.
    func withField<Result>(
        _ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(ModelError) -> Result
    ) throws(ModelError) -> Result {
        let range = ranges[index]
        if range.inLine { return try body(UnsafeBufferPointer(rebasing: line[range.start..<range.end])) }
        return try unescaped.withUnsafeBufferPointer { (buffer) throws(ModelError) in
            try body(UnsafeBufferPointer(rebasing: buffer[range.start..<range.end]))
        }
    }

    mutating func split(_ line: UnsafeBufferPointer<UInt8>, name: String, lineNumber: Int) throws(ModelError) {
        self.line = line
        ranges.removeAll(keepingCapacity: true)
        unescaped.removeAll(keepingCapacity: true)
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), space: UInt8 = 0x20, tab: UInt8 = 0x09
        var i = 0
        while true {
            while i < line.count, line[i] == space || line[i] == tab { i += 1 }
            if i < line.count, line[i] == quote {
                i += 1
                let start = unescaped.count
                var closed = false
                while i < line.count {
                    if line[i] == quote {
                        if i + 1 < line.count, line[i + 1] == quote {
                            unescaped.append(quote)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    unescaped.append(line[i])
                    i += 1
                }
                guard closed else { throw ModelError("\(name) line \(lineNumber): a quoted field is not closed") }
                ranges.append((false, start, unescaped.count))
                while i < line.count, line[i] == space || line[i] == tab { i += 1 }
                guard i == line.count || line[i] == comma else {
                    throw ModelError(
                        "\(name) line \(lineNumber): unexpected text after a closing quote in field \(ranges.count)")
                }
            } else {
                let start = i
                while i < line.count, line[i] != comma { i += 1 }
                var end = i
                while end > start, line[end - 1] == space || line[end - 1] == tab { end -= 1 }
                ranges.append((true, start, end))
            }
            if i >= line.count { return }
            i += 1  // the comma
        }
    }
}
