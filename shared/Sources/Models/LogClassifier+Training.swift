// Training the log severity classifier: logistic regression with L2 by AdaGrad, then the
// threshold that gives the best F1 of `critical` on the training lines.

import Events

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of training data.
public struct LabeledLog: Sendable, Equatable {
    public var message: String
    /// The event's own level (INFO, ERROR, FATAL, ...), when it has one: a feature like the words.
    public var level: String?
    public var critical: Bool

    public init(message: String, level: String? = nil, critical: Bool) {
        self.message = message
        self.level = level
        self.critical = critical
    }
}

extension LogClassifier {
    /// Training settings, with the defaults the default model and the benchmarks use.
    public struct Parameters: Sendable {
        /// Feature buckets are 2^hashBits (10...24).
        public var hashBits = 18
        /// Passes over the shuffled training lines.
        public var epochs = 10
        /// AdaGrad's base step.
        public var learningRate = 0.5
        /// L2 penalty on the weights of the features a line has, applied at each step.
        public var l2 = 1e-6
        /// Seed of the shuffles; the same seed and data give the same model.
        public var seed: UInt64 = 1
        /// The artifact's `training.trained_at` (RFC 3339); nil records the current time.
        public var trainedAt: String? = nil

        public init() {}
    }

    /// Trains on `examples`, weighting the classes equally (critical lines are rare), and
    /// sets the threshold where F1 of `critical` on the training lines is highest.
    public static func train(
        _ examples: [LabeledLog], parameters: Parameters = Parameters()
    ) throws(ModelError) -> LogClassifier {
        guard (10...24).contains(parameters.hashBits) else {
            throw ModelError("hash bits is \(parameters.hashBits), expected 10...24")
        }
        guard (1...10_000).contains(parameters.epochs) else {
            throw ModelError("epochs is \(parameters.epochs), expected 1...10000")
        }
        guard parameters.learningRate > 0, parameters.learningRate.isFinite else {
            throw ModelError("learning rate is \(parameters.learningRate), expected a positive number")
        }
        guard parameters.l2 >= 0, parameters.l2.isFinite else {
            throw ModelError("l2 is \(parameters.l2), expected a number >= 0")
        }
        let critical = examples.count { $0.critical }
        guard critical > 0, critical < examples.count else {
            throw ModelError(
                "training needs both critical and not-critical lines; got \(critical) critical of \(examples.count)")
        }
        if let trainedAt = parameters.trainedAt, !Timestamp.isValidRFC3339(trainedAt) {
            throw ModelError("trained-at '\(trainedAt.prefix(40))' is not an RFC 3339 timestamp")
        }

        let lines = examples.map { FeaturizedLine($0, hashBits: parameters.hashBits) }
        var weights = [Double](repeating: 0, count: 1 << parameters.hashBits)
        var squaredGradients = [Double](repeating: 0, count: 1 << parameters.hashBits)
        var bias = 0.0
        var biasSquaredGradient = 0.0
        let criticalWeight = Double(examples.count) / Double(2 * critical)
        let routineWeight = Double(examples.count) / Double(2 * (examples.count - critical))
        let rate = parameters.learningRate
        let l2 = parameters.l2

        var random = RandomSource(seed: parameters.seed)
        var order = Array(lines.indices)
        for _ in 0..<parameters.epochs {
            for index in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(index, random.nextInt(below: index + 1))
            }
            for index in order {
                let line = lines[index]
                var sum = bias
                for bucket in line.buckets { sum += weights[Int(bucket)] * line.scale }
                let error = (logistic(sum) - (line.critical ? 1 : 0)) * (line.critical ? criticalWeight : routineWeight)
                for bucket in line.buckets {
                    let bucket = Int(bucket)
                    let gradient = error * line.scale + l2 * weights[bucket]
                    squaredGradients[bucket] += gradient * gradient
                    weights[bucket] -= rate * gradient / (squaredGradients[bucket].squareRoot() + 1e-9)
                }
                biasSquaredGradient += error * error
                bias -= rate * error / (biasSquaredGradient.squareRoot() + 1e-9)
            }
        }

        let probabilities = lines.map { line in
            var sum = bias
            for bucket in line.buckets { sum += weights[Int(bucket)] * line.scale }
            return logistic(sum)
        }
        let (threshold, f1) = bestThreshold(probabilities: probabilities, critical: lines.map(\.critical))
        let training = TrainingRecord(
            rows: examples.count, critical: critical, seed: parameters.seed,
            trainedAt: parameters.trainedAt ?? SystemFiles.nowRFC3339(), epochs: parameters.epochs,
            learningRate: rate, l2: l2, trainingF1: f1)
        return LogClassifier(
            hashBits: parameters.hashBits, bias: bias, threshold: threshold, weights: weights, training: training)
    }

    /// The cut with the highest F1 of `critical` (the highest such cut when several tie),
    /// placed halfway between the two probabilities it separates, and that F1.
    static func bestThreshold(probabilities: [Double], critical: [Bool]) -> (threshold: Double, f1: Double) {
        let ranked = zip(probabilities, critical).sorted { $0.0 > $1.0 }
        let positives = critical.count { $0 }
        var truePositives = 0
        var best = (threshold: 0.5, f1: -1.0)
        for (index, (probability, isCritical)) in ranked.enumerated() {
            if isCritical { truePositives += 1 }
            // Cut only between distinct probabilities: equal ones get one verdict.
            let next = index + 1 < ranked.count ? ranked[index + 1].0 : 0
            guard next < probability else { continue }
            let predicted = index + 1
            let f1 = 2 * Double(truePositives) / Double(predicted + positives)
            if f1 > best.f1 {
                best = ((probability + next) / 2, f1)
            }
        }
        return (min(max(best.threshold, 1e-6), 1 - 1e-6), max(best.f1, 0))
    }
}

/// A training line as bucket indices, computed once for every epoch.
private struct FeaturizedLine {
    var buckets: [Int32] = []
    var scale = 0.0
    var critical: Bool

    init(_ example: LabeledLog, hashBits: Int) {
        critical = example.critical
        var buckets: [Int32] = []
        var message = example.message
        message.withUTF8 { bytes in
            LogFeatures.forEach(message: bytes, level: example.level, hashBits: hashBits) { buckets.append(Int32($0)) }
        }
        self.buckets = buckets
        scale = buckets.isEmpty ? 0 : 1 / Double(buckets.count).squareRoot()
    }
}
