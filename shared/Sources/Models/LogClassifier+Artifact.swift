// The log classifier's versioned JSON artifact: writing it, and reading it back only when every part is sound.

/// Artifact format, version 1 (every key required): one JSON object, keys sorted (shown here
/// in reading order).
///
///     {
///       "format_version": 1,
///       "model": "log_severity",
///       "version": "9c1e04b2aa71",               // see below
///       "tokenizer": 1,                          // LogTokenizer.version the features assume
///       "hash_bits": 18,                         // 2^hash_bits feature buckets
///       "bias": -1.73,
///       "threshold": 0.52,                       // critical when probability >= threshold, in (0, 1)
///       "weights": {"buckets": [17, 802, ...],   // strictly increasing, < 2^hash_bits
///                   "values": [0.41, -0.08, ...]},  // one finite weight per bucket; others are 0
///       "training": {"rows": 1500, "critical": 450, "seed": 1, "trained_at": "2026-11-21T10:00:00Z",
///                    "epochs": 10, "learning_rate": 0.5, "l2": 1e-06, "f1": 0.99}
///     }
///
/// `version` is the first 12 hex digits of the 64-bit FNV-1a hash of: "log_severity" and a 0
/// byte; the tokenizer version and hash_bits (little-endian Int64); the IEEE-754 bits of bias
/// and threshold (little-endian UInt64); then each non-zero weight's bucket (Int64) and bits.
/// Training records are left out, so the same data, parameters and seed give the same version.
extension LogClassifier {
    static let formatVersion = 1

    /// The artifact as stored; `init(artifactJSON:)` checks everything Codable cannot.
    struct Artifact: Codable {
        struct Weights: Codable {
            var buckets: [Int]
            var values: [Double]
        }

        var formatVersion: Int
        var model: String
        var version: String
        var tokenizer: Int
        var hashBits: Int
        var bias: Double
        var threshold: Double
        var weights: Weights
        var training: TrainingRecord
    }

    public func artifactJSON() throws(ModelError) -> [UInt8] {
        let buckets = weights.indices.filter { weights[$0] != 0 }
        return try ArtifactJSON.encode(
            Artifact(
                formatVersion: Self.formatVersion, model: Self.modelName, version: contentVersion,
                tokenizer: LogTokenizer.version,
                hashBits: hashBits, bias: bias, threshold: threshold,
                weights: .init(buckets: buckets, values: buckets.map { weights[$0] }), training: training))
    }

    /// Reads an artifact, checking every field; the error says exactly what is wrong.
    public init(artifactJSON: some Collection<UInt8>) throws(ModelError) {
        let artifact = try ArtifactJSON.decode(
            Artifact.self, from: artifactJSON, formatVersion: Self.formatVersion, model: Self.modelName)
        guard artifact.tokenizer == LogTokenizer.version else {
            throw ModelError(
                """
                tokenizer is \(artifact.tokenizer), but this build tokenizes as version \(LogTokenizer.version): \
                retrain the model
                """
            )
        }
        let hashBits = artifact.hashBits
        guard (10...24).contains(hashBits) else { throw ModelError("hash_bits is \(hashBits), expected 10...24") }
        let bias = try ArtifactCheck.finite(artifact.bias, "bias")
        let threshold = try ArtifactCheck.finite(artifact.threshold, "threshold")
        guard threshold > 0, threshold < 1 else {
            throw ModelError("threshold is \(threshold), expected a probability in (0, 1)")
        }

        let buckets = artifact.weights.buckets
        let values = artifact.weights.values
        try ArtifactCheck.finite(values, "weights.values", expected: buckets.count, meaning: "one per bucket")
        var weights = [Double](repeating: 0, count: 1 << hashBits)
        var previous = -1
        for (index, bucket) in buckets.enumerated() {
            guard bucket > previous else {
                throw ModelError(
                    "weights.buckets[\(index)] is \(bucket), expected buckets in strictly increasing order")
            }
            guard bucket < weights.count else {
                throw ModelError(
                    """
                    weights.buckets[\(index)] is \(bucket), but hash_bits \(hashBits) gives buckets \
                    0...\(weights.count - 1)
                    """
                )
            }
            weights[bucket] = values[index]
            previous = bucket
        }

        let training = artifact.training
        guard training.rows > 0, training.critical > 0, training.critical < training.rows else {
            throw ModelError(
                """
                training.rows (\(training.rows)) and training.critical (\(training.critical)) must have 0 < \
                critical < rows
                """
            )
        }
        try ArtifactCheck.timestamp(training.trainedAt, "training.trained_at")
        guard (0...1).contains(training.trainingF1) else {
            throw ModelError("training.f1 is \(training.trainingF1), expected a value in [0, 1]")
        }
        _ = try ArtifactCheck.finite(training.learningRate, "training.learning_rate")
        _ = try ArtifactCheck.finite(training.l2, "training.l2")
        self.init(hashBits: hashBits, bias: bias, threshold: threshold, weights: weights, training: training)
        try ArtifactCheck.version(artifact.version, matches: contentVersion)
    }

    static func contentHash(hashBits: Int, bias: Double, threshold: Double, weights: [Double]) -> String {
        var hash = FNV1a64()
        hash.add(bytes: modelName.utf8)
        hash.add(byte: 0)
        hash.add(Int64(LogTokenizer.version))
        hash.add(Int64(hashBits))
        hash.add(bias)
        hash.add(threshold)
        for (bucket, weight) in weights.enumerated() where weight != 0 {
            hash.add(Int64(bucket))
            hash.add(weight)
        }
        return hash.versionString
    }
}
