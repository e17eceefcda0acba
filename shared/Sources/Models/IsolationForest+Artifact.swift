// The versioned JSON artifact: writing it, and reading it back only when every part is sound.

/// Artifact format, version 1 (all keys required unless marked optional):
///
///     {
///       "format_version": 1,
///       "model": "isolation_forest",
///       "version": "3f2a9c01b7de",              // see below
///       "feature_names": ["temperature", ...],   // order of the row features
///       "scaler": null | {"mean": [...], "std": [...]},   // z-score, one entry per feature
///       "threshold": 0.61,                       // anomaly when score >= threshold
///       "severity": {"warning": 0.61, "critical": 0.68},  // warning == threshold <= critical
///       "training": {"rows": 20000, "seed": 1, "trained_at": "2026-11-21T07:04:50Z",
///                    "contamination": 0.01 | null, "explicit_threshold": null | 0.6,  // exactly one set
///                    "auc": null | 0.97},        // optional keys: contamination, explicit_threshold, auc
///       "trees": {"count": 100, "depth": 8,     // depth = ceil(log2 subsample)
///                 "subsample": 256,              // ψ actually used
///                 "features": [...],             // count × (2^depth − 1) feature indices
///                 "thresholds": [...],           // same length; null encodes +infinity
///                 "leaf_values": [...]}          // count × 2^depth path lengths (depth + c(size))
///     }
///
/// Trees are complete binary trees in breadth-first order (children of node i at 2i+1 and
/// 2i+2), one after another; a row goes right when `x[feature] >= threshold`. A `null`
/// threshold (+∞) is a pass-through node: every row goes left. JSON has no infinity, hence null.
///
/// `version` is the first 12 hex digits of the 64-bit FNV-1a hash of, in order: each feature
/// name's UTF-8 bytes followed by a 0 byte; count, depth, subsample, every feature index
/// (each as a little-endian Int64); the IEEE-754 bit patterns (little-endian UInt64) of every
/// threshold (+∞ for null), every leaf value; a 0 byte without scaler, or a 1 byte then the
/// bit patterns of every mean and every std; then the bits of threshold, warning, critical.
/// The training record is not part of it, so retraining the same data with the same seed
/// gives the same version, and loading rejects a file whose content no longer matches it.
extension IsolationForest {
    static let formatVersion = 1

    public func artifactJSON() throws(ModelError) -> [UInt8] {
        var out = JSONOutput()
        out.raw("{\n  \"format_version\": \(Self.formatVersion),\n  \"model\": ")
        out.string(Self.modelName)
        out.raw(",\n  \"version\": ")
        out.string(contentVersion)
        out.raw(",\n  \"feature_names\": ")
        out.array(featureNames) { $0.string($1) }
        out.raw(",\n  \"scaler\": ")
        if let scaler = forest.scaler {
            out.raw("{\"mean\": ")
            out.array(scaler.mean) { $0.number($1) }
            out.raw(", \"std\": ")
            out.array(scaler.std) { $0.number($1) }
            out.raw("}")
        } else {
            out.raw("null")
        }
        out.raw(",\n  \"threshold\": ")
        out.number(threshold)
        out.raw(",\n  \"severity\": {\"warning\": ")
        out.number(warningCutPoint)
        out.raw(", \"critical\": ")
        out.number(criticalCutPoint)
        out.raw("},\n  \"training\": {\"rows\": ")
        out.integer(training.rows)
        out.raw(", \"seed\": ")
        out.integer(training.seed)
        out.raw(", \"trained_at\": ")
        out.string(training.trainedAt)
        out.raw(", \"contamination\": ")
        out.number(training.contamination)
        out.raw(", \"explicit_threshold\": ")
        out.number(training.explicitThreshold)
        out.raw(", \"auc\": ")
        out.number(training.auc)
        if let featureMin = training.featureMin, let featureMax = training.featureMax {
            out.raw(", \"feature_min\": ")
            out.array(featureMin) { $0.number($1) }
            out.raw(", \"feature_max\": ")
            out.array(featureMax) { $0.number($1) }
        }
        out.raw("},\n  \"trees\": {\n    \"count\": \(forest.treeCount),\n    \"depth\": \(forest.depth),\n    \"subsample\": \(forest.subsample),\n    \"features\": ")
        out.array(forest.features) { $0.integer($1) }
        out.raw(",\n    \"thresholds\": ")
        out.array(forest.thresholds) { $0.number($1.isInfinite ? nil : $1) }
        out.raw(",\n    \"leaf_values\": ")
        out.array(forest.leafValues) { $0.number($1) }
        out.raw("\n  }\n}\n")
        return out.bytes
    }

    /// Reads an artifact, checking every field; the error says exactly what is wrong.
    public init(artifactJSON: some Collection<UInt8>) throws(ModelError) {
        let root = try ArtifactFields(value: JSONParser.parse(artifactJSON), path: "")
        try root.checkHeader(formatVersion: Self.formatVersion, model: Self.modelName)
        let version = try root.string("version")

        let featureNames = try root.array("feature_names").enumerated().map { (index, value) throws(ModelError) -> String in
            guard case .string(let name) = value else {
                throw ModelError("feature_names[\(index)] should be a string, found \(value.kindName)")
            }
            return name
        }
        try Self.validateFeatureNames(featureNames)
        let featureCount = featureNames.count

        var scaler: Scaler?
        if try !root.isNull("scaler") {
            let fields = try root.object("scaler")
            let mean = try fields.doubles("mean", count: featureCount, countMeaning: "one per feature")
            let std = try fields.doubles("std", count: featureCount, countMeaning: "one per feature")
            if let index = std.firstIndex(where: { $0 <= 0 }) {
                throw ModelError("scaler.std[\(index)] is \(std[index]), expected a positive number")
            }
            scaler = Scaler(mean: mean, std: std)
        }

        let threshold = try root.double("threshold")
        let severity = try root.object("severity")
        let warning = try severity.double("warning")
        let critical = try severity.double("critical")
        guard (0...1).contains(threshold) else { throw ModelError("threshold is \(threshold), expected a score in [0, 1]") }
        guard warning == threshold else {
            throw ModelError("severity.warning (\(warning)) differs from threshold (\(threshold)); the warning band starts at the threshold")
        }
        guard warning <= critical else {
            throw ModelError("severity.warning (\(warning)) is above severity.critical (\(critical))")
        }
        guard critical <= 1 else { throw ModelError("severity.critical is \(critical), expected a score in [0, 1]") }

        let trees = try root.object("trees")
        let count = try trees.integer("count")
        let depth = try trees.integer("depth")
        let subsample = try trees.integer("subsample")
        guard (1...100_000).contains(count) else { throw ModelError("trees.count is \(count), expected 1...100000") }
        guard (2...(1 << 24)).contains(subsample) else {
            throw ModelError("trees.subsample is \(subsample), expected 2...\(1 << 24)")
        }
        var expectedDepth = 0
        while (1 << expectedDepth) < subsample { expectedDepth += 1 }
        guard depth == expectedDepth else {
            throw ModelError("trees.depth is \(depth), expected \(expectedDepth) = ceil(log2(subsample \(subsample)))")
        }
        let internalCount = (1 << depth) - 1
        let leafCount = 1 << depth
        let nodeCountMeaning = "\(count) trees × \(internalCount)"
        let featuresJSON = try trees.array("features", count: count * internalCount, countMeaning: nodeCountMeaning)
        let thresholdsJSON = try trees.array("thresholds", count: count * internalCount, countMeaning: nodeCountMeaning)
        let leafValues = try trees.doubles("leaf_values", count: count * leafCount, countMeaning: "\(count) trees × \(leafCount)")

        var features = [Int]()
        features.reserveCapacity(featuresJSON.count)
        for (index, value) in featuresJSON.enumerated() {
            guard let feature = value.exactInteger else {
                throw ModelError("trees.features[\(index)] should be an integer, found \(value.kindName)")
            }
            guard feature >= 0, feature < featureCount else {
                throw ModelError("trees.features[\(index)] is \(feature), but the model has \(featureCount) features (valid 0...\(featureCount - 1))")
            }
            features.append(feature)
        }
        var thresholds = [Double]()
        thresholds.reserveCapacity(thresholdsJSON.count)
        for (index, value) in thresholdsJSON.enumerated() {
            if case .null = value {
                thresholds.append(.infinity)
                continue
            }
            guard let number = value.number else {
                throw ModelError("trees.thresholds[\(index)] should be a number or null, found \(value.kindName)")
            }
            guard number.isFinite else {
                throw ModelError("trees.thresholds[\(index)] is \(number), expected a finite number (or null for +infinity)")
            }
            thresholds.append(number)
        }
        if let index = leafValues.firstIndex(where: { $0 < 0 }) {
            throw ModelError("trees.leaf_values[\(index)] is \(leafValues[index]), expected a path length >= 0")
        }

        let trainingFields = try root.object("training")
        let rows = try trainingFields.integer("rows")
        guard rows >= subsample else {
            throw ModelError("training.rows (\(rows)) is below trees.subsample (\(subsample))")
        }
        let seed = try trainingFields.unsignedInteger("seed")
        let trainedAt = try trainingFields.string("trained_at")
        guard isRFC3339(trainedAt) else {
            throw ModelError("training.trained_at '\(trainedAt.prefix(40))' is not an RFC 3339 timestamp")
        }
        let contamination = try trainingFields.optionalDouble("contamination")
        let explicitThreshold = try trainingFields.optionalDouble("explicit_threshold")
        let auc = try trainingFields.optionalDouble("auc")
        // Optional: artifacts written before ranges were recorded have neither.
        var featureMin: [Double]?
        var featureMax: [Double]?
        if trainingFields.members["feature_min"] != nil || trainingFields.members["feature_max"] != nil {
            let low = try trainingFields.doubles("feature_min", count: featureCount, countMeaning: "one per feature")
            let high = try trainingFields.doubles("feature_max", count: featureCount, countMeaning: "one per feature")
            if let column = low.indices.first(where: { !(low[$0] <= high[$0]) }) {
                throw ModelError("training.feature_min[\(column)] is above training.feature_max[\(column)]")
            }
            (featureMin, featureMax) = (low, high)
        }
        switch (contamination, explicitThreshold) {
        case (let fraction?, nil):
            guard fraction > 0, fraction <= 0.5 else {
                throw ModelError("training.contamination is \(fraction), expected a fraction in (0, 0.5]")
            }
        case (nil, let explicit?):
            guard explicit == threshold else {
                throw ModelError("training.explicit_threshold (\(explicit)) differs from threshold (\(threshold))")
            }
        default:
            throw ModelError("training needs exactly one of contamination and explicit_threshold")
        }
        if let auc, !(0...1).contains(auc) {
            throw ModelError("training.auc is \(auc), expected a value in [0, 1]")
        }

        let forest = Forest(
            treeCount: count, depth: depth, subsample: subsample, featureCount: featureCount,
            features: features, thresholds: thresholds, leafValues: leafValues, scaler: scaler)
        let training = TrainingRecord(
            rows: rows, seed: seed, trainedAt: trainedAt, contamination: contamination,
            explicitThreshold: explicitThreshold, auc: auc, featureMin: featureMin, featureMax: featureMax)
        self.init(featureNames: featureNames, threshold: threshold, warningCutPoint: warning,
                  criticalCutPoint: critical, training: training, forest: forest)
        guard version == contentVersion else {
            throw ModelError("version '\(version.prefix(40))' does not match the content, which hashes to '\(contentVersion)': the file was edited or corrupted")
        }
    }

    /// Loads the artifact at `path`; errors start with the path.
    public static func load(path: String) throws(ModelError) -> IsolationForest {
        try ArtifactFile.load(path: path, what: "model artifact") { (bytes) throws(ModelError) in try IsolationForest(artifactJSON: bytes) }
    }

    /// Writes the artifact to `path` atomically (a temporary file in the same directory,
    /// flushed, then renamed over `path`).
    public func write(to path: String) throws(ModelError) {
        try ArtifactFile.write(try artifactJSON(), to: path, what: "model artifact")
    }

    static func contentHash(featureNames: [String], forest: Forest,
                            threshold: Double, warning: Double, critical: Double) -> String {
        var hash = FNV1a64()
        for name in featureNames {
            hash.add(bytes: name.utf8)
            hash.add(byte: 0)
        }
        hash.add(Int64(forest.treeCount))
        hash.add(Int64(forest.depth))
        hash.add(Int64(forest.subsample))
        for feature in forest.features { hash.add(Int64(feature)) }
        for value in forest.thresholds { hash.add(value) }
        for value in forest.leafValues { hash.add(value) }
        if let scaler = forest.scaler {
            hash.add(byte: 1)
            for value in scaler.mean { hash.add(value) }
            for value in scaler.std { hash.add(value) }
        } else {
            hash.add(byte: 0)
        }
        hash.add(threshold)
        hash.add(warning)
        hash.add(critical)
        return hash.versionString
    }
}
