// Isolation Forest (Liu, Ting & Zhou, ICDM 2008): the trained model and its scoring paths.

import Events

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An ensemble of isolation trees and the cut points that turn its scores into verdicts.
///
/// Scores are `s(x) = 2^(−E[h(x)] / c(ψ))` in (0, 1]; higher is more anomalous. Each tree is
/// stored as a complete binary tree of depth `L = ceil(log2 ψ)` in flat arrays, so scoring a
/// row is exactly `L` branch-free steps per tree: `node = 2·node + 1 + (x[f] >= threshold)`.
/// A node that the paper makes external above depth `L` is stored as "pass-through" nodes
/// (threshold +∞, always left) down to depth `L`; every leaf below it holds its path length
/// `depth + c(size)`.
///
/// Rows have the model's features in `featureNames` order, unscaled: a model trained with
/// `standardize` applies its stored z-score scaler itself. Passing a row with a different
/// number of features is a programming error and traps. A NaN feature goes left at every split.
public struct IsolationForest: Sendable {
    /// Training settings. Defaults are the paper's (t = 100, ψ = 256) with 1% contamination.
    public struct Parameters: Sendable {
        /// Number of trees, t.
        public var trees: Int
        /// Rows drawn without replacement for each tree, ψ (capped at the number of rows).
        public var subsample: Int
        /// Seed of the generator that draws subsamples, features and split points.
        public var seed: UInt64
        /// Expected fraction of anomalies in the training data, in (0, 0.5]: the threshold is
        /// the (1 − contamination) quantile of the training scores. Ignored when
        /// `explicitThreshold` is set.
        public var contamination: Double
        /// A fixed score threshold in (0, 1) instead of one derived from `contamination`.
        public var explicitThreshold: Double?
        /// Z-score every feature with the training mean and standard deviation (0 → 1).
        public var standardize: Bool
        /// The artifact's `training.trained_at` (RFC 3339); nil records the current time.
        /// Fix it to make the artifact bytes of a training run reproducible.
        public var trainedAt: String?

        public init(
            trees: Int = 100, subsample: Int = 256, seed: UInt64 = 1, contamination: Double = 0.01,
            explicitThreshold: Double? = nil, standardize: Bool = false, trainedAt: String? = nil
        ) {
            (self.trees, self.subsample, self.seed) = (trees, subsample, seed)
            (self.contamination, self.explicitThreshold) = (contamination, explicitThreshold)
            (self.standardize, self.trainedAt) = (standardize, trainedAt)
        }
    }

    public let featureNames: [String]
    /// Score at which a row becomes an anomaly (`isAnomaly`), the start of the warning band.
    public let threshold: Double
    public let warningCutPoint: Double
    public let criticalCutPoint: Double
    public let trainingRows: Int
    /// ROC AUC on the training rows when labels were given at training time.
    public let trainingAUC: Double?
    let training: TrainingRecord
    let forest: Forest
    /// The artifact's `version`: 12 hex digits of a hash of everything that shapes a verdict.
    let contentVersion: String

    /// `name@version`, e.g. `isolation_forest@3f2a9c01b7de`; the same training gives the same version.
    public var version: String { "\(Self.modelName)@\(contentVersion)" }

    static let modelName = "isolation_forest"

    init(
        featureNames: [String], threshold: Double, warningCutPoint: Double, criticalCutPoint: Double,
        training: TrainingRecord, forest: Forest
    ) {
        self.featureNames = featureNames
        self.threshold = threshold
        self.warningCutPoint = warningCutPoint
        self.criticalCutPoint = criticalCutPoint
        self.trainingRows = training.rows
        self.trainingAUC = training.auc
        self.training = training
        self.forest = forest
        self.contentVersion = Self.contentHash(
            featureNames: featureNames, forest: forest,
            threshold: threshold, warning: warningCutPoint, critical: criticalCutPoint)
    }

    // MARK: Scoring

    /// The anomaly score of one row of original (unscaled) features.
    public func score(_ row: some Collection<Double>) -> Double {
        forest.score(pathLengthSum: pathLengthSum(row))
    }

    /// Scores every row of `data` into `scores` (resized to `data.rows`, storage reused):
    /// rows are walked in blocks, level by level, so the CPU overlaps many rows' memory loads.
    /// Gives exactly the same values as `score(_:)` row by row.
    public func score(_ data: FeatureMatrix, into scores: inout [Double]) {
        precondition(
            data.columns == forest.featureCount,
            "IsolationForest.score: rows have \(data.columns) features, the model has \(forest.featureCount)")
        if scores.count > data.rows {
            scores.removeLast(scores.count - data.rows)
        } else if scores.count < data.rows {
            scores.append(contentsOf: repeatElement(0, count: data.rows - scores.count))
        }
        guard data.rows > 0 else { return }
        data.values.withUnsafeBufferPointer { values in
            scores.withUnsafeMutableBufferPointer { output in
                forest.scoreBlocks(values.baseAddress!, rows: data.rows, into: output.baseAddress!)
            }
        }
    }

    /// E[h(x)]: the mean over trees of the path length to the external node `x` reaches, plus
    /// c(size) of that node.
    public func averagePathLength(_ row: some Collection<Double>) -> Double {
        pathLengthSum(row) / Double(forest.treeCount)
    }

    public func severity(forScore score: Double) -> Severity {
        if score >= criticalCutPoint { return .critical }
        if score >= warningCutPoint { return .warning }
        return .none
    }

    /// `score >= threshold`.
    /// Each feature's range in the training data (original units), when the artifact has it.
    public var trainingRanges: [ClosedRange<Double>]? {
        guard let low = training.featureMin, let high = training.featureMax else { return nil }
        return zip(low, high).map { $0...$1 }
    }

    /// True when some feature lies outside its training range by more than `tolerance` times
    /// that range's width. An Isolation Forest cannot split beyond its training data, so such
    /// a value scores no higher than the most extreme training value: this says so instead.
    /// False when the artifact records no ranges or `tolerance` is 0 (the check is off).
    public func exceedsTrainingRange(_ row: some Collection<Double>, tolerance: Double) -> Bool {
        guard let bounds = trainingBounds(tolerance: tolerance) else { return false }
        return zip(row, bounds).contains { !$1.contains($0) }
    }

    /// The values each feature may take before `exceedsTrainingRange` flags it: its training
    /// range widened on both sides by `tolerance` times its width. Compute it once and check
    /// rows against it on a hot path. nil when the check is off or the artifact has no ranges.
    public func trainingBounds(tolerance: Double) -> [ClosedRange<Double>]? {
        guard tolerance > 0, let ranges = trainingRanges else { return nil }
        return ranges.map { range in
            let margin = (range.upperBound - range.lowerBound) * tolerance
            return (range.lowerBound - margin)...(range.upperBound + margin)
        }
    }

    public func isAnomaly(score: Double) -> Bool {
        score >= threshold
    }

    /// c(n) = 2H(n − 1) − 2(n − 1)/n with H(i) = ln(i) + γ: the average path length of an
    /// unsuccessful search in a binary search tree of n points. c(0) = c(1) = 0, c(2) = 1.
    public static func averagePathLengthOfUnsuccessfulSearch(_ n: Int) -> Double {
        if n <= 1 { return 0 }
        if n == 2 { return 1 }
        let eulerGamma = 0.5772156649
        let m = Double(n - 1)
        return 2 * (log(m) + eulerGamma) - 2 * m / Double(n)
    }

    private func pathLengthSum(_ row: some Collection<Double>) -> Double {
        precondition(
            row.count == forest.featureCount,
            "IsolationForest.score: row has \(row.count) features, the model has \(forest.featureCount)")
        if let sum = row.withContiguousStorageIfAvailable({ forest.pathLengthSum(unscaled: $0.baseAddress!) }) {
            return sum
        }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: forest.featureCount) { copy in
            _ = copy.initialize(from: row)
            return forest.pathLengthSum(unscaled: copy.baseAddress!)
        }
    }
}

/// How a model was trained, kept in the artifact for people and audits.
struct TrainingRecord: Sendable, Equatable, Codable {
    var rows: Int
    var seed: UInt64
    var trainedAt: String
    var contamination: Double?
    var explicitThreshold: Double?
    var auc: Double?
    /// Each feature's smallest and largest training value, in original units; nil in
    /// artifacts written before they were recorded.
    var featureMin: [Double]? = nil
    var featureMax: [Double]? = nil
}

/// Z-score parameters: `(x − mean) / std` per feature.
package struct Scaler: Sendable, Equatable, Codable {
    var mean: [Double]
    var std: [Double]
}

/// One internal node of the flat layout: the scorer loads both fields with one cache line.
struct SplitNode: Sendable {
    var threshold: Double
    var feature: Int
}

/// The trees in the complete-binary-tree layout, `treeCount × (2^depth − 1)` internal nodes
/// and `treeCount × 2^depth` leaves, tree after tree.
struct Forest: Sendable {
    let treeCount: Int
    let depth: Int
    let subsample: Int
    let featureCount: Int
    /// Artifact form of the internal nodes; `+infinity` marks a pass-through node.
    let features: [Int]
    let thresholds: [Double]
    let leafValues: [Double]
    let scaler: Scaler?
    /// The same internal nodes as `features`/`thresholds`, interleaved for the scorer.
    let nodes: [SplitNode]
    /// c(ψ), the normaliser of the score.
    let normalizer: Double

    var internalCount: Int { (1 << depth) - 1 }
    var leafCount: Int { 1 << depth }

    /// Rows walked together: enough independent walks to hide load latency, few enough that
    /// their rows and a tree's nodes stay in L1.
    static let blockRows = 64

    init(
        treeCount: Int, depth: Int, subsample: Int, featureCount: Int,
        features: [Int], thresholds: [Double], leafValues: [Double], scaler: Scaler?
    ) {
        self.treeCount = treeCount
        self.depth = depth
        self.subsample = subsample
        self.featureCount = featureCount
        self.features = features
        self.thresholds = thresholds
        self.leafValues = leafValues
        self.scaler = scaler
        self.nodes = zip(thresholds, features).map { SplitNode(threshold: $0, feature: $1) }
        self.normalizer = IsolationForest.averagePathLengthOfUnsuccessfulSearch(subsample)
    }

    /// The one formula from a path-length sum to a score, shared by every scoring path so
    /// they agree to the last bit.
    @inline(__always)
    func score(pathLengthSum sum: Double) -> Double {
        exp2(-(sum / Double(treeCount)) / normalizer)
    }

    /// Σ over trees of h(x) for one row of `featureCount` unscaled values.
    func pathLengthSum(unscaled row: UnsafePointer<Double>) -> Double {
        guard let scaler else { return pathLengthSum(scaled: row) }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: featureCount) { scaled in
            for f in 0..<featureCount {
                scaled[f] = (row[f] - scaler.mean[f]) / scaler.std[f]
            }
            return pathLengthSum(scaled: UnsafePointer(scaled.baseAddress!))
        }
    }

    /// Walks eight trees at a time (eight independent load chains instead of one), then adds
    /// their leaves in tree order, so the sum is the same as walking them one by one.
    private func pathLengthSum(scaled x: UnsafePointer<Double>) -> Double {
        nodes.withUnsafeBufferPointer { nodeBuffer in
            leafValues.withUnsafeBufferPointer { leafBuffer in
                let nodes = nodeBuffer.baseAddress!
                let leaves = leafBuffer.baseAddress!
                let internalCount = self.internalCount
                let leafCount = self.leafCount
                @inline(__always)
                func step(_ treeNodes: UnsafePointer<SplitNode>, _ node: Int) -> Int {
                    let split = treeNodes[node]
                    return 2 &* node &+ 1 &+ (x[split.feature] >= split.threshold ? 1 : 0)
                }
                var sum = 0.0
                var tree = 0
                while tree + 8 <= treeCount {
                    let n0 = nodes + tree * internalCount
                    var w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0
                    for _ in 0..<depth {
                        w0 = step(n0, w0)
                        w1 = step(n0 + internalCount, w1)
                        w2 = step(n0 + 2 * internalCount, w2)
                        w3 = step(n0 + 3 * internalCount, w3)
                        w4 = step(n0 + 4 * internalCount, w4)
                        w5 = step(n0 + 5 * internalCount, w5)
                        w6 = step(n0 + 6 * internalCount, w6)
                        w7 = step(n0 + 7 * internalCount, w7)
                    }
                    let treeLeaves = leaves + (tree * leafCount - internalCount)
                    sum += treeLeaves[w0]
                    sum += treeLeaves[leafCount + w1]
                    sum += treeLeaves[2 * leafCount + w2]
                    sum += treeLeaves[3 * leafCount + w3]
                    sum += treeLeaves[4 * leafCount + w4]
                    sum += treeLeaves[5 * leafCount + w5]
                    sum += treeLeaves[6 * leafCount + w6]
                    sum += treeLeaves[7 * leafCount + w7]
                    tree += 8
                }
                while tree < treeCount {
                    let treeNodes = nodes + tree * internalCount
                    var node = 0
                    for _ in 0..<depth { node = step(treeNodes, node) }
                    sum += leaves[tree * leafCount + node - internalCount]
                    tree += 1
                }
                return sum
            }
        }
    }

    /// Scores `rows` rows (row-major, `featureCount` each) into `output`.
    ///
    /// Rows go in blocks of `blockRows` (scaled into a scratch block first when there is a
    /// scaler). Trees are the outer loop and, inside a tree, levels: each level advances every
    /// row of the block by one step, so the block's walks are independent load chains the CPU
    /// overlaps, while the tree's nodes and the block's rows stay in L1. Sums accumulate tree
    /// after tree, as in `pathLengthSum`, so the scores are identical to the one-row path.
    func scoreBlocks(_ values: UnsafePointer<Double>, rows: Int, into output: UnsafeMutablePointer<Double>) {
        let blockRows = Self.blockRows
        let d = featureCount
        let internalCount = self.internalCount
        let leafCount = self.leafCount
        let depth = self.depth
        nodes.withUnsafeBufferPointer { nodeBuffer in
            leafValues.withUnsafeBufferPointer { leafBuffer in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: blockRows) { walk in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: blockRows) { sums in
                        withUnsafeTemporaryAllocation(of: Double.self, capacity: scaler == nil ? 1 : blockRows * d) {
                            scaled in
                            let nodes = nodeBuffer.baseAddress!
                            let leaves = leafBuffer.baseAddress!
                            var start = 0
                            while start < rows {
                                let count = min(blockRows, rows - start)
                                var x = values + start * d
                                if let scaler {
                                    for r in 0..<count {
                                        for f in 0..<d {
                                            scaled[r * d + f] = (x[r * d + f] - scaler.mean[f]) / scaler.std[f]
                                        }
                                    }
                                    x = UnsafePointer(scaled.baseAddress!)
                                }
                                for r in 0..<count { sums[r] = 0 }
                                for tree in 0..<treeCount {
                                    let treeNodes = nodes + tree * internalCount
                                    for r in 0..<count { walk[r] = 0 }
                                    for _ in 0..<depth {
                                        for r in 0..<count {
                                            let node = walk[r]
                                            let split = treeNodes[node]
                                            walk[r] =
                                                2 &* node &+ 1
                                                &+ (x[r &* d &+ split.feature] >= split.threshold ? 1 : 0)
                                        }
                                    }
                                    let treeLeaves = leaves + (tree * leafCount - internalCount)
                                    for r in 0..<count { sums[r] += treeLeaves[walk[r]] }
                                }
                                for r in 0..<count { output[start + r] = score(pathLengthSum: sums[r]) }
                                start += count
                            }
                        }
                    }
                }
            }
        }
    }
}
