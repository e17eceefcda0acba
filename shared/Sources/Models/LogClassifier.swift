// The log severity classifier: hashed word unigrams and bigrams of a masked line, a logistic
// regression over them, and the probability of `critical` it gives.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether a log line is critical (a person must act now).
///
/// Features are the line's tokens (`LogTokenizer`) as unigrams and bigrams (the first token
/// paired with a start marker), plus `level=<level>` when the event carries a level: the
/// level informs the model, it is not a rule. Each feature is hashed into `2^hashBits`
/// buckets; a line's features have equal weight, scaled to unit length (1/√n each). The
/// probability of critical is the logistic function of `bias + Σ weight[bucket] / √n`; a
/// line is critical when it reaches `threshold`.
public struct LogClassifier: Sendable {
    static let modelName = "log_severity"

    /// Buckets are `2^hashBits`.
    public let hashBits: Int
    public let bias: Double
    /// Probability from which a line is critical; chosen on the training data.
    public let threshold: Double
    let weights: [Double]
    let training: TrainingRecord
    let contentVersion: String

    /// What training recorded; kept in the artifact, not part of the version.
    struct TrainingRecord: Sendable, Equatable, Codable {
        var rows: Int
        var critical: Int
        var seed: UInt64
        var trainedAt: String
        var epochs: Int
        var learningRate: Double
        var l2: Double
        var trainingF1: Double

        enum CodingKeys: String, CodingKey {
            case rows, critical, seed, trainedAt, epochs, learningRate, l2
            case trainingF1 = "f1"
        }
    }

    /// `name@version`, as scored events carry it.
    public var version: String { "\(Self.modelName)@\(contentVersion)" }
    public var trainingRows: Int { training.rows }
    public var trainingCritical: Int { training.critical }
    /// F1 of `critical` on the training lines at `threshold`.
    public var trainingF1: Double { training.trainingF1 }

    init(hashBits: Int, bias: Double, threshold: Double, weights: [Double], training: TrainingRecord) {
        precondition(weights.count == 1 << hashBits, "LogClassifier: weights must have 2^hashBits entries")
        self.hashBits = hashBits
        self.bias = bias
        self.threshold = threshold
        self.weights = weights
        self.training = training
        self.contentVersion = Self.contentHash(hashBits: hashBits, bias: bias, threshold: threshold, weights: weights)
    }

    /// The probability that `message` is critical.
    public func probability(of message: String, level: String? = nil) -> Double {
        var message = message
        return message.withUTF8 { probability(ofUTF8: $0, level: level) }
    }

    /// The probability that the UTF-8 `message` is critical.
    public func probability(ofUTF8 message: UnsafeBufferPointer<UInt8>, level: String? = nil) -> Double {
        probability { LogFeatures.forEach(message: message, level: level, hashBits: hashBits, $0) }
    }

    /// The probability of critical of a line already split into its token keys
    /// (`LogTokenizer.keys`): the same features, without splitting it again.
    public func probability(tokens: [UInt64], level: String? = nil) -> Double {
        probability { LogFeatures.forEach(tokens: tokens, level: level, hashBits: hashBits, $0) }
    }

    /// The logistic of the bias and the features' weights, each weighing 1/√n.
    @inline(__always) private func probability(features: ((Int) -> Void) -> Void) -> Double {
        var sum = 0.0
        var count = 0
        weights.withUnsafeBufferPointer { weights in
            features { bucket in
                sum += weights[bucket]
                count += 1
            }
        }
        return logistic(bias + (count == 0 ? 0 : sum / Double(count).squareRoot()))
    }

    public func isCritical(probability: Double) -> Bool {
        probability >= threshold
    }
}

/// The hashed features of a line: what training and scoring both go through.
enum LogFeatures {
    /// Calls `body` with the bucket of every feature of the line (repeats included).
    static func forEach(message: UnsafeBufferPointer<UInt8>, level: String?, hashBits: Int, _ body: (Int) -> Void) {
        var previous = startMarker
        LogTokenizer.forEachToken(in: message) { token in
            let key = token.key
            body(bucket(key, hashBits))
            body(bucket(combine(previous, key), hashBits))
            previous = key
        }
        levelFeature(level, hashBits, body)
    }

    /// The same features, of a line already split into its token keys.
    static func forEach(tokens: [UInt64], level: String?, hashBits: Int, _ body: (Int) -> Void) {
        var previous = startMarker
        for key in tokens {
            body(bucket(key, hashBits))
            body(bucket(combine(previous, key), hashBits))
            previous = key
        }
        levelFeature(level, hashBits, body)
    }

    @inline(__always) private static func bucket(_ key: UInt64, _ hashBits: Int) -> Int {
        // Multiply-shift: the top bits of a multiply mix every input bit.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - hashBits))
    }

    @inline(__always) private static func levelFeature(_ level: String?, _ hashBits: Int, _ body: (Int) -> Void) {
        guard let level, !level.isEmpty else { return }
        var hash = levelPrefix
        for byte in level.utf8.prefix(32) {
            hash =
                (hash ^ UInt64((UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte))
                &* fnvPrime
        }
        body(bucket(hash, hashBits))
    }

    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3
    static let startMarker = fnv1a("^".utf8)
    static let levelPrefix = fnv1a("level=".utf8)

    @inline(__always) static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash = fnvOffset
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* fnvPrime }
        return hash
    }

    /// An ordered pair of token keys as one key (so "not ready" differs from "ready not").
    @inline(__always) static func combine(_ first: UInt64, _ second: UInt64) -> UInt64 {
        let rotated = (first << 23) | (first >> 41)
        return (rotated &* 0xBF58_476D_1CE4_E5B9) ^ second ^ 0x94D0_49BB_1331_11EB
    }
}

extension LogPlaceholder {
    /// Placeholders hash as their text, so `<num>` and a literal "<num>" word coincide (rare and harmless).
    var featureKey: UInt64 {
        switch self {
        case .number: Self.keys.number
        case .hex: Self.keys.hex
        case .ip: Self.keys.ip
        case .path: Self.keys.path
        case .uuid: Self.keys.uuid
        case .timestamp: Self.keys.timestamp
        case .url: Self.keys.url
        }
    }

    private static let keys = (
        number: LogFeatures.fnv1a(LogPlaceholder.number.rawValue.utf8),
        hex: LogFeatures.fnv1a(LogPlaceholder.hex.rawValue.utf8),
        ip: LogFeatures.fnv1a(LogPlaceholder.ip.rawValue.utf8),
        path: LogFeatures.fnv1a(LogPlaceholder.path.rawValue.utf8),
        uuid: LogFeatures.fnv1a(LogPlaceholder.uuid.rawValue.utf8),
        timestamp: LogFeatures.fnv1a(LogPlaceholder.timestamp.rawValue.utf8),
        url: LogFeatures.fnv1a(LogPlaceholder.url.rawValue.utf8)
    )
}

@inline(__always) func logistic(_ z: Double) -> Double {
    1 / (1 + exp(-z))
}
