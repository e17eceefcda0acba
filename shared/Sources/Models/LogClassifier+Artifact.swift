// The log classifier's versioned JSON artifact: writing it, and reading it back only when every part is sound.

/// Artifact format, version 1 (every key required):
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

    public func artifactJSON() -> [UInt8] {
        let buckets = weights.indices.filter { weights[$0] != 0 }
        var out = JSONOutput()
        out.raw("{\n  \"format_version\": \(Self.formatVersion),\n  \"model\": ")
        out.string(Self.modelName)
        out.raw(",\n  \"version\": ")
        out.string(contentVersion)
        out.raw(",\n  \"tokenizer\": \(LogTokenizer.version),\n  \"hash_bits\": \(hashBits),\n  \"bias\": ")
        out.number(bias)
        out.raw(",\n  \"threshold\": ")
        out.number(threshold)
        out.raw(",\n  \"weights\": {\n    \"buckets\": ")
        out.array(buckets) { $0.integer($1) }
        out.raw(",\n    \"values\": ")
        out.array(buckets) { $0.number(weights[$1]) }
        out.raw("\n  },\n  \"training\": {\"rows\": ")
        out.integer(training.rows)
        out.raw(", \"critical\": ")
        out.integer(training.critical)
        out.raw(", \"seed\": ")
        out.integer(training.seed)
        out.raw(", \"trained_at\": ")
        out.string(training.trainedAt)
        out.raw(", \"epochs\": ")
        out.integer(training.epochs)
        out.raw(", \"learning_rate\": ")
        out.number(training.learningRate)
        out.raw(", \"l2\": ")
        out.number(training.l2)
        out.raw(", \"f1\": ")
        out.number(training.trainingF1)
        out.raw("}\n}\n")
        return out.bytes
    }

    /// Reads an artifact, checking every field; the error says exactly what is wrong.
    public init(artifactJSON: some Collection<UInt8>) throws(ModelError) {
        let root = try ArtifactFields(value: JSONParser.parse(artifactJSON), path: "")
        try root.checkHeader(formatVersion: Self.formatVersion, model: Self.modelName)
        let version = try root.string("version")
        let tokenizer = try root.integer("tokenizer")
        guard tokenizer == LogTokenizer.version else {
            throw ModelError("tokenizer is \(tokenizer), but this build tokenizes as version \(LogTokenizer.version): retrain the model")
        }
        let hashBits = try root.integer("hash_bits")
        guard (10...24).contains(hashBits) else { throw ModelError("hash_bits is \(hashBits), expected 10...24") }
        let bias = try root.double("bias")
        let threshold = try root.double("threshold")
        guard threshold > 0, threshold < 1 else { throw ModelError("threshold is \(threshold), expected a probability in (0, 1)") }

        let weightFields = try root.object("weights")
        let buckets = try weightFields.array("buckets")
        let values = try weightFields.doubles("values", count: buckets.count, countMeaning: "one per bucket")
        var weights = [Double](repeating: 0, count: 1 << hashBits)
        var previous = -1
        for (index, value) in buckets.enumerated() {
            guard let bucket = value.exactInteger else {
                throw ModelError("weights.buckets[\(index)] should be an integer, found \(value.kindName)")
            }
            guard bucket > previous else {
                throw ModelError("weights.buckets[\(index)] is \(bucket), expected buckets in strictly increasing order")
            }
            guard bucket < weights.count else {
                throw ModelError("weights.buckets[\(index)] is \(bucket), but hash_bits \(hashBits) gives buckets 0...\(weights.count - 1)")
            }
            weights[bucket] = values[index]
            previous = bucket
        }

        let fields = try root.object("training")
        let rows = try fields.integer("rows")
        let critical = try fields.integer("critical")
        guard rows > 0, critical > 0, critical < rows else {
            throw ModelError("training.rows (\(rows)) and training.critical (\(critical)) must have 0 < critical < rows")
        }
        let trainedAt = try fields.string("trained_at")
        guard isRFC3339(trainedAt) else {
            throw ModelError("training.trained_at '\(trainedAt.prefix(40))' is not an RFC 3339 timestamp")
        }
        let f1 = try fields.double("f1")
        guard (0...1).contains(f1) else { throw ModelError("training.f1 is \(f1), expected a value in [0, 1]") }
        let training = TrainingRecord(rows: rows, critical: critical, seed: try fields.unsignedInteger("seed"), trainedAt: trainedAt,
                                      epochs: try fields.integer("epochs"), learningRate: try fields.double("learning_rate"),
                                      l2: try fields.double("l2"), trainingF1: f1)
        self.init(hashBits: hashBits, bias: bias, threshold: threshold, weights: weights, training: training)
        guard version == contentVersion else {
            throw ModelError("version '\(version.prefix(40))' does not match the content, which hashes to '\(contentVersion)': the file was edited or corrupted")
        }
    }

    /// Loads the artifact at `path`; errors start with the path.
    public static func load(path: String) throws(ModelError) -> LogClassifier {
        try ArtifactFile.load(path: path, what: "log model artifact") { (bytes) throws(ModelError) in try LogClassifier(artifactJSON: bytes) }
    }

    /// Writes the artifact to `path` atomically.
    public func write(to path: String) throws(ModelError) {
        try ArtifactFile.write(artifactJSON(), to: path, what: "log model artifact")
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
