// Shared helpers for the Models tests: error capture, hand-built artifacts and small datasets.

import Foundation
import Models
import Testing
@_exported import AlertronTesting

/// The message of the `ModelError` `body` throws, or nil when it succeeds.
func modelErrorMessage<T>(_ body: () throws -> T) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as ModelError {
        return error.message
    } catch {
        return "not a ModelError: \(error)"
    }
}

/// c(n) straight from the paper's formula, written out independently of the module.
func cReference(_ n: Int) -> Double {
    if n <= 1 { return 0 }
    if n == 2 { return 1 }
    return 2 * (log(Double(n - 1)) + 0.5772156649) - 2 * Double(n - 1) / Double(n)
}

/// A fixed timestamp so two trainings produce identical artifact bytes.
let fixedTrainedAt = "2026-11-21T07:04:50Z"

func parameters(
    trees: Int = 100, subsample: Int = 256, seed: UInt64 = 1, contamination: Double = 0.01,
    explicitThreshold: Double? = nil, standardize: Bool = false
) -> IsolationForest.Parameters {
    IsolationForest.Parameters(
        trees: trees, subsample: subsample, seed: seed, contamination: contamination,
        explicitThreshold: explicitThreshold, standardize: standardize, trainedAt: fixedTrainedAt)
}

/// The default sensor model, trained once for the tests that only read it.
let defaultSensorModel: IsolationForest = try! SensorProfile.trainDefault(seed: 1)

/// An artifact written by hand: exactly the documented format, with the documented version hash.
struct HandBuiltArtifact {
    var featureNames: [String]
    var depth: Int
    var subsample: Int
    var features: [Int]
    var thresholds: [Double?]
    var leafValues: [Double]
    var threshold = 0.6
    var critical = 0.8

    var treeCount: Int { leafValues.count / (1 << depth) }

    /// The artifact's `version` as the format documents it: FNV-1a 64 over the names, the
    /// shape, the tree arrays, the scaler flag and the cut points, first 12 hex digits.
    var version: String {
        var state: UInt64 = 0xCBF2_9CE4_8422_2325
        func byte(_ value: UInt8) { state = (state ^ UInt64(value)) &* 0x0000_0100_0000_01B3 }
        func word(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) { byte(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        for name in featureNames {
            name.utf8.forEach(byte)
            byte(0)
        }
        [treeCount, depth, subsample].forEach { word(UInt64(bitPattern: Int64($0))) }
        features.forEach { word(UInt64(bitPattern: Int64($0))) }
        thresholds.forEach { word(($0 ?? .infinity).bitPattern) }
        leafValues.forEach { word($0.bitPattern) }
        byte(0)  // no scaler
        [threshold, threshold, critical].forEach { word($0.bitPattern) }
        let hex = String(state, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }

    var json: String {
        func list(_ values: [String]) -> String { "[" + values.joined(separator: ", ") + "]" }
        return """
            {
              "format_version": 1,
              "model": "isolation_forest",
              "version": "\(version)",
              "feature_names": \(list(featureNames.map { "\"\($0)\"" })),
              "scaler": null,
              "threshold": \(threshold),
              "severity": {"warning": \(threshold), "critical": \(critical)},
              "training": {"rows": \(subsample), "seed": 0, "trained_at": "\(fixedTrainedAt)", "contamination": 0.25},
              "trees": {
                "count": \(treeCount), "depth": \(depth), "subsample": \(subsample),
                "features": \(list(features.map(String.init))),
                "thresholds": \(list(thresholds.map { $0.map { "\($0)" } ?? "null" })),
                "leaf_values": \(list(leafValues.map { "\($0)" }))
              }
            }
            """
    }
}

/// The range of the value of the first `"key":` in compact JSON (a scalar, or a balanced
/// array or object), or nil.
func valueRange(_ text: String, _ key: String) -> Range<String.Index>? {
    guard let keyRange = text.range(of: "\"\(key)\":") else { return nil }
    var index = keyRange.upperBound
    var depth = 0
    var inString = false
    while index < text.endIndex {
        let character = text[index]
        if inString {
            if character == "\\" { index = text.index(after: index) } else if character == "\"" { inString = false }
        } else if character == "\"" {
            inString = true
        } else if character == "[" || character == "{" {
            depth += 1
        } else if character == "]" || character == "}" {
            if depth == 0 { break }
            depth -= 1
            if depth == 0 { return keyRange.upperBound..<text.index(after: index) }
        } else if character == ",", depth == 0 {
            break
        }
        index = text.index(after: index)
    }
    return keyRange.upperBound..<index
}

/// Replaces the value of the first `"key":` in a compact JSON artifact.
func editingField(_ text: String, _ key: String, _ transform: (String) -> String) -> String {
    guard let range = valueRange(text, key) else {
        Issue.record("no field \(key)")
        return text
    }
    return text.replacingCharacters(in: range, with: transform(String(text[range])))
}

/// Removes the first `"key":value` (and the comma after it) from a compact JSON artifact.
func removingField(_ text: String, _ key: String) -> String {
    guard let range = valueRange(text, key), let keyRange = text.range(of: "\"\(key)\":") else {
        Issue.record("no field \(key)")
        return text
    }
    var end = range.upperBound
    if end < text.endIndex, text[end] == "," { end = text.index(after: end) }
    return text.replacingCharacters(in: keyRange.lowerBound..<end, with: "")
}

/// A fresh directory under the system's temporary directory.
func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("models-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The rows of `matrix` whose indices are in `range`, as their own matrix.
func rows(_ matrix: FeatureMatrix, _ range: Range<Int>) -> FeatureMatrix {
    var result = FeatureMatrix(columns: matrix.columns, capacity: range.count)
    for row in range { result.append(row: matrix[row]) }
    return result
}

/// Applies `transform` to the entries of the flat JSON array under `key` in `text`.
func editingArray(_ text: String, key: String, _ transform: (inout [String]) -> Void) -> String {
    editingField(text, key) { value in
        var entries = value.dropFirst().dropLast().split(separator: ",").map(String.init)
        transform(&entries)
        return "[" + entries.joined(separator: ",") + "]"
    }
}
