// The versioned JSON artifact: writing it, and reading it back only when every part is sound.

/// Artifact format, version 1: one JSON object, keys sorted (shown here in reading order).
/// Every key is required unless marked optional; an optional key may be null or absent.
///
///     {
///       "format_version": 1,
///       "model": "isolation_forest",
///       "version": "3f2a9c01b7de",              // see below
///       "feature_names": ["temperature", ...],   // order of the row features
///       "scaler": {"mean": [...], "std": [...]}, // optional: z-score, one entry per feature
///       "threshold": 0.61,                       // anomaly when score >= threshold
///       "severity": {"warning": 0.61, "critical": 0.68},  // warning == threshold <= critical
///       "training": {"rows": 20000, "seed": 1, "trained_at": "2026-11-21T07:04:50Z",
///                    "contamination": 0.01, "explicit_threshold": 0.6,  // exactly one of the two
///                    "auc": 0.97,                // optional
///                    "feature_min": [...], "feature_max": [...]},  // optional, together
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

    /// The artifact as stored; `init(artifactJSON:)` checks everything Codable cannot. The
    /// benchmarks' naive forest reads its trees too (`decodedArtifact`).
    package struct Artifact: Codable {
        struct Severity: Codable {
            var warning: Double
            var critical: Double
        }

        package struct Trees: Codable {
            package var count: Int
            package var depth: Int
            package var subsample: Int
            package var features: [Int]
            package var thresholds: [Double?]
            package var leafValues: [Double]
        }

        var formatVersion: Int
        var model: String
        var version: String
        var featureNames: [String]
        package var scaler: Scaler?
        var threshold: Double
        var severity: Severity
        var training: TrainingRecord
        package var trees: Trees
    }

    /// The artifact's fields as stored, before any check beyond their types.
    package static func decodedArtifact(_ bytes: some Collection<UInt8>) throws(ModelError) -> Artifact {
        try ArtifactJSON.decode(Artifact.self, from: bytes, formatVersion: formatVersion, model: modelName)
    }

    public func artifactJSON() throws(ModelError) -> [UInt8] {
        let trees = Artifact.Trees(
            count: forest.treeCount, depth: forest.depth, subsample: forest.subsample, features: forest.features,
            thresholds: forest.thresholds.map { $0.isInfinite ? nil : $0 }, leafValues: forest.leafValues)
        return try ArtifactJSON.encode(
            Artifact(
                formatVersion: Self.formatVersion, model: Self.modelName, version: contentVersion,
                featureNames: featureNames,
                scaler: forest.scaler, threshold: threshold,
                severity: .init(warning: warningCutPoint, critical: criticalCutPoint), training: training, trees: trees)
        )
    }

    /// Reads an artifact, checking every field; the error says exactly what is wrong.
    public init(artifactJSON: some Collection<UInt8>) throws(ModelError) {
        let artifact = try Self.decodedArtifact(artifactJSON)
        let featureNames = artifact.featureNames
        try Self.validateFeatureNames(featureNames)
        let featureCount = featureNames.count

        if let scaler = artifact.scaler {
            try ArtifactCheck.finite(scaler.mean, "scaler.mean", expected: featureCount, meaning: "one per feature")
            try ArtifactCheck.finite(scaler.std, "scaler.std", expected: featureCount, meaning: "one per feature")
            if let index = scaler.std.firstIndex(where: { $0 <= 0 }) {
                throw ModelError("scaler.std[\(index)] is \(scaler.std[index]), expected a positive number")
            }
        }

        let threshold = try ArtifactCheck.finite(artifact.threshold, "threshold")
        let warning = try ArtifactCheck.finite(artifact.severity.warning, "severity.warning")
        let critical = try ArtifactCheck.finite(artifact.severity.critical, "severity.critical")
        guard (0...1).contains(threshold) else {
            throw ModelError("threshold is \(threshold), expected a score in [0, 1]")
        }
        guard warning == threshold else {
            throw ModelError(
                """
                severity.warning (\(warning)) differs from threshold (\(threshold)); the warning band starts at \
                the threshold
                """
            )
        }
        guard warning <= critical else {
            throw ModelError("severity.warning (\(warning)) is above severity.critical (\(critical))")
        }
        guard critical <= 1 else { throw ModelError("severity.critical is \(critical), expected a score in [0, 1]") }

        let trees = artifact.trees
        let (count, depth, subsample) = (trees.count, trees.depth, trees.subsample)
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
        try ArtifactCheck.count(
            trees.features, "trees.features", expected: count * internalCount, meaning: nodeCountMeaning)
        try ArtifactCheck.count(
            trees.thresholds, "trees.thresholds", expected: count * internalCount, meaning: nodeCountMeaning)
        try ArtifactCheck.finite(
            trees.leafValues, "trees.leaf_values", expected: count * leafCount,
            meaning: "\(count) trees × \(leafCount)")
        if let index = trees.features.firstIndex(where: { !(0..<featureCount).contains($0) }) {
            throw ModelError(
                """
                trees.features[\(index)] is \(trees.features[index]), but the model has \(featureCount) features \
                (valid 0...\(featureCount - 1))
                """
            )
        }
        if let index = trees.thresholds.firstIndex(where: { $0.map { !$0.isFinite } ?? false }) {
            throw ModelError(
                """
                trees.thresholds[\(index)] is \(trees.thresholds[index]!), expected a finite number (or null for \
                +infinity)
                """
            )
        }
        if let index = trees.leafValues.firstIndex(where: { $0 < 0 }) {
            throw ModelError("trees.leaf_values[\(index)] is \(trees.leafValues[index]), expected a path length >= 0")
        }

        let training = artifact.training
        guard training.rows >= subsample else {
            throw ModelError("training.rows (\(training.rows)) is below trees.subsample (\(subsample))")
        }
        try ArtifactCheck.timestamp(training.trainedAt, "training.trained_at")
        // Optional: artifacts written before ranges were recorded have neither.
        switch (training.featureMin, training.featureMax) {
        case (nil, nil): break
        case (let low?, let high?):
            try ArtifactCheck.finite(low, "training.feature_min", expected: featureCount, meaning: "one per feature")
            try ArtifactCheck.finite(high, "training.feature_max", expected: featureCount, meaning: "one per feature")
            if let column = low.indices.first(where: { !(low[$0] <= high[$0]) }) {
                throw ModelError("training.feature_min[\(column)] is above training.feature_max[\(column)]")
            }
        default:
            throw ModelError("training needs both feature_min and feature_max, or neither")
        }
        switch (training.contamination, training.explicitThreshold) {
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
        if let auc = training.auc, !(0...1).contains(auc) {
            throw ModelError("training.auc is \(auc), expected a value in [0, 1]")
        }

        let forest = Forest(
            treeCount: count, depth: depth, subsample: subsample, featureCount: featureCount,
            features: trees.features, thresholds: trees.thresholds.map { $0 ?? .infinity },
            leafValues: trees.leafValues,
            scaler: artifact.scaler)
        self.init(
            featureNames: featureNames, threshold: threshold, warningCutPoint: warning,
            criticalCutPoint: critical, training: training, forest: forest)
        try ArtifactCheck.version(artifact.version, matches: contentVersion)
    }

    static func contentHash(
        featureNames: [String], forest: Forest,
        threshold: Double, warning: Double, critical: Double
    ) -> String {
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
