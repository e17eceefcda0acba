// Growing the trees (paper's iTree with scikit-learn's skip of constant features) and calibrating cut points.
import Events

extension IsolationForest {
    /// Trains on every row of `data` (labels are never used for training; given, they only
    /// yield `trainingAUC`). Each tree grows on ψ = min(subsample, rows) rows drawn without
    /// replacement, to height limit ceil(log2 ψ). At each node a feature is chosen uniformly
    /// among those not constant in the node, and a split point uniformly in [min, max);
    /// `x < p` goes left. The same data, names and parameters give an identical model.
    public static func train(
        _ data: FeatureMatrix, featureNames: [String], parameters: Parameters, labels: [Bool]? = nil
    ) throws(ModelError) -> IsolationForest {
        try validate(data, featureNames: featureNames, parameters: parameters, labels: labels)
        let trainedAt = parameters.trainedAt ?? SystemFiles.nowRFC3339()

        let scaler = parameters.standardize ? fitScaler(data) : nil
        var grower = TreeGrower(data: data, scaler: scaler, subsample: min(parameters.subsample, data.rows))
        var random = RandomSource(seed: parameters.seed)
        for tree in 0..<parameters.trees {
            grower.grow(tree: tree, trees: parameters.trees, random: &random)
        }
        let forest = Forest(
            treeCount: parameters.trees, depth: grower.depth, subsample: grower.subsample,
            featureCount: data.columns, features: grower.features, thresholds: grower.thresholds,
            leafValues: grower.leafValues, scaler: scaler)

        var scores: [Double] = []
        scores.reserveCapacity(data.rows)
        data.values.withUnsafeBufferPointer { values in
            scores.append(contentsOf: repeatElement(0, count: data.rows))
            scores.withUnsafeMutableBufferPointer {
                forest.scoreBlocks(values.baseAddress!, rows: data.rows, into: $0.baseAddress!)
            }
        }
        let cutPoints = SeverityCalibration(
            trainingScores: scores, contamination: parameters.contamination,
            explicitThreshold: parameters.explicitThreshold)
        var auc: Double?
        if let labels {
            let value = ROC.auc(scores: scores, labels: labels)
            auc = value.isNaN ? nil : value
        }
        var featureMin = [Double](repeating: .infinity, count: data.columns)
        var featureMax = [Double](repeating: -.infinity, count: data.columns)
        for row in 0..<data.rows {
            for (column, value) in data[row].enumerated() {
                featureMin[column] = min(featureMin[column], value)
                featureMax[column] = max(featureMax[column], value)
            }
        }
        let training = TrainingRecord(
            rows: data.rows, seed: parameters.seed, trainedAt: trainedAt,
            contamination: parameters.explicitThreshold == nil ? parameters.contamination : nil,
            explicitThreshold: parameters.explicitThreshold, auc: auc, featureMin: featureMin, featureMax: featureMax)
        return IsolationForest(
            featureNames: featureNames, threshold: cutPoints.warning, warningCutPoint: cutPoints.warning,
            criticalCutPoint: cutPoints.critical, training: training, forest: forest)
    }

    private static func validate(
        _ data: FeatureMatrix, featureNames: [String], parameters: Parameters, labels: [Bool]?
    ) throws(ModelError) {
        guard featureNames.count == data.columns else {
            throw ModelError("\(featureNames.count) feature names for \(data.columns) columns of data")
        }
        try validateFeatureNames(featureNames)
        guard data.rows >= 2 else {
            throw ModelError("training needs at least 2 rows, got \(data.rows)")
        }
        guard (1...100_000).contains(parameters.trees) else {
            throw ModelError("parameter trees is \(parameters.trees), expected 1...100000")
        }
        guard (2...(1 << 24)).contains(parameters.subsample) else {
            throw ModelError("parameter subsample is \(parameters.subsample), expected 2...\(1 << 24)")
        }
        if let explicit = parameters.explicitThreshold {
            guard explicit > 0, explicit < 1 else {
                throw ModelError("parameter explicitThreshold is \(explicit), expected a score in (0, 1)")
            }
        } else {
            guard parameters.contamination > 0, parameters.contamination <= 0.5 else {
                throw ModelError(
                    "parameter contamination is \(parameters.contamination), expected a fraction in (0, 0.5]")
            }
        }
        if let trainedAt = parameters.trainedAt, !Timestamp.isValidRFC3339(trainedAt) {
            throw ModelError("parameter trainedAt '\(trainedAt.prefix(40))' is not an RFC 3339 timestamp")
        }
        if let labels, labels.count != data.rows {
            throw ModelError("\(labels.count) labels for \(data.rows) rows")
        }
        if let index = data.values.firstIndex(where: { !$0.isFinite }) {
            throw ModelError(
                "training row \(index / data.columns), feature \(featureNames[index % data.columns]): "
                    + "\(data.values[index]) is not a finite number")
        }
    }

    static func validateFeatureNames(_ names: [String]) throws(ModelError) {
        guard !names.isEmpty else { throw ModelError("feature_names is empty") }
        var seen = Set<String>()
        for (index, name) in names.enumerated() {
            guard !name.isEmpty else { throw ModelError("feature_names[\(index)] is empty") }
            guard seen.insert(name).inserted else { throw ModelError("feature_names has '\(name)' twice") }
        }
    }

    /// Population mean and standard deviation per feature; a constant feature gets std 1.
    private static func fitScaler(_ data: FeatureMatrix) -> Scaler {
        let d = data.columns
        var mean = [Double](repeating: 0, count: d)
        var std = [Double](repeating: 0, count: d)
        for r in 0..<data.rows {
            for f in 0..<d { mean[f] += data.values[r * d + f] }
        }
        for f in 0..<d { mean[f] /= Double(data.rows) }
        for r in 0..<data.rows {
            for f in 0..<d {
                let deviation = data.values[r * d + f] - mean[f]
                std[f] += deviation * deviation
            }
        }
        for f in 0..<d {
            let value = (std[f] / Double(data.rows)).squareRoot()
            std[f] = value > 0 && value.isFinite ? value : 1
        }
        return Scaler(mean: mean, std: std)
    }
}

/// Grows isolation trees straight into the flat complete-tree arrays.
private struct TreeGrower {
    let rows: Int
    let d: Int
    let subsample: Int
    let depth: Int
    /// Training values as the trees see them (standardised when there is a scaler).
    private let values: [Double]
    /// A permutation of all row indices; its first ψ entries are the current tree's sample.
    private var pool: [Int]
    /// The current tree's sample, row-major, and the node-by-node partition of its rows.
    private var sample: [Double]
    private var points: [Int]
    /// Feature indices in the order the random feature choice leaves them.
    private var candidates: [Int]

    private(set) var features: [Int] = []
    private(set) var thresholds: [Double] = []
    private(set) var leafValues: [Double] = []

    var internalCount: Int { (1 << depth) - 1 }
    var leafCount: Int { 1 << depth }

    init(data: FeatureMatrix, scaler: Scaler?, subsample: Int) {
        rows = data.rows
        d = data.columns
        self.subsample = subsample
        var depth = 0
        while (1 << depth) < subsample { depth += 1 }
        self.depth = depth
        if let scaler {
            var scaled = data.values
            for i in scaled.indices {
                let f = i % data.columns
                scaled[i] = (scaled[i] - scaler.mean[f]) / scaler.std[f]
            }
            values = scaled
        } else {
            values = data.values
        }
        pool = Array(0..<rows)
        sample = [Double](repeating: 0, count: subsample * data.columns)
        points = Array(0..<subsample)
        candidates = Array(0..<data.columns)
    }

    mutating func grow(tree: Int, trees: Int, random: inout RandomSource) {
        if features.isEmpty {
            features = [Int](repeating: 0, count: trees * internalCount)
            thresholds = [Double](repeating: .infinity, count: trees * internalCount)
            leafValues = [Double](repeating: 0, count: trees * leafCount)
        }
        // Partial Fisher–Yates: ψ distinct rows, uniformly.
        for i in 0..<subsample {
            pool.swapAt(i, i + random.nextInt(below: rows - i))
            let row = pool[i]
            for f in 0..<d { sample[i * d + f] = values[row * d + f] }
            points[i] = i
        }
        split(tree: tree, node: 0, level: 0, lower: 0, upper: subsample, random: &random)
    }

    /// Grows the subtree at `node` (index within the tree's complete layout) from
    /// `points[lower..<upper]`.
    private mutating func split(tree: Int, node: Int, level: Int, lower: Int, upper: Int, random: inout RandomSource) {
        let size = upper - lower
        if level == depth {
            leafValues[tree * leafCount + node - internalCount] = Double(level) + c(size)
            return
        }
        guard size > 1, let choice = chooseFeature(lower: lower, upper: upper, random: &random) else {
            makeExternal(tree: tree, node: node, level: level, size: size)
            return
        }
        let (feature, minimum, maximum) = choice
        var point = minimum + random.nextUnit() * (maximum - minimum)
        if !point.isFinite { point = minimum / 2 + maximum / 2 }  // max − min overflowed
        point = min(max(point, minimum), maximum)
        var middle = lower
        for k in lower..<upper where sample[points[k] * d + feature] < point {
            points.swapAt(k, middle)
            middle += 1
        }
        features[tree * internalCount + node] = feature
        thresholds[tree * internalCount + node] = point
        split(tree: tree, node: 2 * node + 1, level: level + 1, lower: lower, upper: middle, random: &random)
        split(tree: tree, node: 2 * node + 2, level: level + 1, lower: middle, upper: upper, random: &random)
    }

    /// A uniformly random feature among those not constant on the node's points, drawn by
    /// trying features in random order (what scikit-learn's splitter does), with its range.
    private mutating func chooseFeature(lower: Int, upper: Int, random: inout RandomSource) -> (Int, Double, Double)? {
        var remaining = d
        while remaining > 0 {
            let pick = random.nextInt(below: remaining)
            let feature = candidates[pick]
            var minimum = Double.infinity
            var maximum = -Double.infinity
            for k in lower..<upper {
                let value = sample[points[k] * d + feature]
                minimum = min(minimum, value)
                maximum = max(maximum, value)
            }
            if minimum < maximum { return (feature, minimum, maximum) }
            candidates.swapAt(pick, remaining - 1)
            remaining -= 1
        }
        return nil
    }

    /// An external node above the height limit: the subtree below it passes every row left
    /// (threshold +∞), and every leaf under it holds the node's path length, so even a row
    /// with +∞ features, which goes right, gets the same value.
    private mutating func makeExternal(tree: Int, node: Int, level: Int, size: Int) {
        let value = Double(level) + c(size)
        var first = node
        var width = 1
        for _ in level..<depth {
            for k in first..<first + width {
                features[tree * internalCount + k] = 0
                thresholds[tree * internalCount + k] = .infinity
            }
            first = 2 * first + 1
            width *= 2
        }
        for k in first..<first + width {
            leafValues[tree * leafCount + k - internalCount] = value
        }
    }

    private func c(_ n: Int) -> Double {
        IsolationForest.averagePathLengthOfUnsuccessfulSearch(n)
    }
}

/// Warning and critical cut points from the training scores.
///
/// Warning is the threshold: the (1 − contamination) quantile of the training scores (linear
/// interpolation, as numpy's percentile that scikit-learn uses), or the explicit threshold.
/// Critical is the (1 − f/10) quantile, where f is the fraction of training rows at or above
/// the threshold: a tenth of the flagged training rows are critical. When ties or a tiny
/// sample put it at or below the warning cut point, it becomes the lowest training score
/// above warning, or halfway from warning to 1 when there is none; it is always > warning.
struct SeverityCalibration {
    var warning: Double
    var critical: Double

    init(trainingScores: [Double], contamination: Double, explicitThreshold: Double?) {
        let sorted = trainingScores.sorted()
        let warning = explicitThreshold ?? Self.quantile(sorted, 1 - contamination)
        let flagged = sorted.count - Self.firstIndex(in: sorted, atLeast: warning)
        var critical = warning
        if flagged > 0 {
            critical = Self.quantile(sorted, 1 - Double(flagged) / Double(sorted.count) / 10)
        }
        if critical <= warning {
            let above = Self.firstIndex(in: sorted, above: warning)
            critical = above < sorted.count ? sorted[above] : warning + (1 - warning) / 2
        }
        if critical <= warning { critical = warning.nextUp }
        self.warning = warning
        self.critical = critical
    }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    private static func firstIndex(in sorted: [Double], atLeast value: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func firstIndex(in sorted: [Double], above value: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
