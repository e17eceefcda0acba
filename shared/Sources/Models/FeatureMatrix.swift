// A dense, row-major matrix of feature values: the unit of training and batched scoring.

/// Rows of `columns` Doubles stored contiguously in `values` (row `r` is
/// `values[r * columns ..< (r + 1) * columns]`), so a batch can be filled, scored and
/// cleared again without allocating.
public struct FeatureMatrix: Sendable, Equatable {
    public private(set) var rows: Int
    public let columns: Int
    public private(set) var values: [Double]

    /// An empty matrix with room for `capacity` rows. `columns` must be at least 1.
    public init(columns: Int, capacity: Int = 0) {
        precondition(columns > 0, "FeatureMatrix needs at least one column")
        self.rows = 0
        self.columns = columns
        self.values = []
        values.reserveCapacity(max(0, capacity) * columns)
    }

    /// A matrix holding `rows`, which must be non-empty and all of the same length.
    public init(rows: [[Double]]) throws(ModelError) {
        guard let first = rows.first else {
            throw ModelError("a feature matrix needs at least one row to know its column count")
        }
        guard !first.isEmpty else {
            throw ModelError("row 0 has no values; a feature matrix needs at least one column")
        }
        self.init(columns: first.count, capacity: rows.count)
        for (index, row) in rows.enumerated() {
            guard row.count == columns else {
                throw ModelError("row \(index) has \(row.count) values, expected \(columns) like row 0")
            }
            append(row: row)
        }
    }

    /// Appends one row; it must have exactly `columns` values (a programming error otherwise).
    public mutating func append(row: some Collection<Double>) {
        precondition(row.count == columns, "FeatureMatrix.append: row has \(row.count) values, expected \(columns)")
        values.append(contentsOf: row)
        rows += 1
    }

    /// Removes every row, keeping the storage by default so the next batch does not allocate.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        values.removeAll(keepingCapacity: keepingCapacity)
        rows = 0
    }

    public subscript(row: Int) -> ArraySlice<Double> {
        precondition(row >= 0 && row < rows, "FeatureMatrix: row \(row) out of range 0..<\(rows)")
        return values[row * columns..<(row + 1) * columns]
    }
}
