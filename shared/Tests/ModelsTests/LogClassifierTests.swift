// The log severity classifier: it learns a small labeled set, uses the level as a feature,
// trains reproducibly and round-trips its artifact exactly.

import Foundation
import Models
import Testing

/// Lines from a few templates with varying values; `critical` marks the templates a person must act on.
func templatedLogs(count: Int, seed: Int) -> [LabeledLog] {
    let critical = [
        { (n: Int) in "md\(n % 4): Disk failure on sd\(["a", "b", "c"][n % 3])\(n % 8), disabling device" },
        { (n: Int) in "Out of memory: Killed process \(1000 + n * 7) (java) total-vm:\(n * 913)kB" },
        { (n: Int) in "EXT4-fs error (device nvme0n1p\(n % 5)): remounting filesystem read-only" },
        { (n: Int) in "etcdserver: no leader for \(n % 30 + 3)s, cluster unavailable" },
    ]
    let routine = [
        { (n: Int) in "session opened for user u\(n) by (uid=0)" },
        { (n: Int) in "GET /api/v1/items/\(n) 200 \(n % 90 + 3)ms" },
        { (n: Int) in "backup of /var/lib/db\(n % 3) completed in \(n % 50 + 1)s, 0 errors" },
        { (n: Int) in "checkpoint complete: wrote \(n * 3) buffers (\(n % 100)%)" },
        { (n: Int) in "Started Daily apt upgrade activities, pid \(n + 300)" },
    ]
    return (0..<count).map { index in
        let n = index * 31 + seed * 1_000
        if index % 3 == 0 {
            return LabeledLog(message: critical[(index / 3) % critical.count](n), critical: true)
        }
        return LabeledLog(message: routine[index % routine.count](n), critical: false)
    }
}

func logParameters(seed: UInt64 = 1, hashBits: Int = 16) -> LogClassifier.Parameters {
    var parameters = LogClassifier.Parameters()
    parameters.seed = seed
    parameters.hashBits = hashBits
    parameters.trainedAt = fixedTrainedAt
    return parameters
}

@Suite(.computeThread) struct LogClassifierTests {
    static let model = try! LogClassifier.train(templatedLogs(count: 120, seed: 1), parameters: logParameters())

    @Test func separatesUnseenLinesOfTheTrainedTemplates() {
        let model = Self.model
        #expect(model.trainingF1 == 1)
        for example in templatedLogs(count: 60, seed: 7) {
            let probability = model.probability(of: example.message)
            #expect(
                model.isCritical(probability: probability) == example.critical, "\(example.message): \(probability)")
        }
    }

    @Test func probabilitiesAreProbabilities() {
        for line in ["", "kernel panic", String(repeating: "x ", count: 5_000)] {
            let probability = Self.model.probability(of: line)
            #expect(probability > 0 && probability < 1)
        }
        #expect(Self.model.threshold > 0 && Self.model.threshold < 1)
    }

    @Test func theLevelIsAFeatureNotARule() throws {
        var examples = templatedLogs(count: 60, seed: 2)
        for index in 0..<20 {
            examples.append(LabeledLog(message: "worker \(index) stopped", level: "FATAL", critical: true))
            examples.append(LabeledLog(message: "worker \(index) stopped", level: "info", critical: false))
        }
        // FATAL on a routine template does not make it critical: the words outweigh it.
        examples.append(LabeledLog(message: "session opened for user u1 by (uid=0)", level: "FATAL", critical: false))
        let model = try LogClassifier.train(examples, parameters: logParameters())
        let fatal = model.probability(of: "worker 99 stopped", level: "fatal")
        let info = model.probability(of: "worker 99 stopped", level: "INFO")
        #expect(model.isCritical(probability: fatal))
        #expect(!model.isCritical(probability: info))
        #expect(
            !model.isCritical(
                probability: model.probability(of: "session opened for user u5 by (uid=0)", level: "FATAL")))
    }

    @Test func theSameDataAndSeedGiveTheSameArtifact() throws {
        let again = try LogClassifier.train(templatedLogs(count: 120, seed: 1), parameters: logParameters())
        #expect(try again.artifactJSON() == Self.model.artifactJSON())
        let reseeded = try LogClassifier.train(templatedLogs(count: 120, seed: 1), parameters: logParameters(seed: 2))
        #expect(reseeded.version != Self.model.version)
    }

    @Test func artifactRoundTripIsExact() throws {
        let bytes = try Self.model.artifactJSON()
        let loaded = try LogClassifier(artifactJSON: bytes)
        #expect(try loaded.artifactJSON() == bytes)
        #expect(loaded.version == Self.model.version)
        #expect(loaded.version.hasPrefix("log_severity@"))
        for example in templatedLogs(count: 30, seed: 3) {
            #expect(loaded.probability(of: example.message) == Self.model.probability(of: example.message))
        }

        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/log-model.json"
        try Self.model.write(to: path)
        #expect(try LogClassifier.load(path: path).version == Self.model.version)
    }

    @Test func damagedArtifactsAreRefusedWithTheReason() throws {
        let artifact = String(decoding: try Self.model.artifactJSON(), as: UTF8.self)
        func load(_ text: String) -> String? { modelErrorMessage { try LogClassifier(artifactJSON: Array(text.utf8)) } }

        let edited = editingArray(artifact, key: "values") { $0[0] = "0.123456" }
        #expect(load(edited)?.contains("does not match the content") == true)
        let unsorted = editingArray(artifact, key: "buckets") { $0.swapAt(0, 1) }
        #expect(load(unsorted)?.contains("weights.buckets[1]") == true)
        let outOfRange = editingArray(artifact, key: "buckets") { $0[$0.count - 1] = "\(1 << 16)" }
        #expect(load(outOfRange)?.contains("hash_bits 16 gives buckets 0...65535") == true)
        let shortValues = editingArray(artifact, key: "values") { $0.removeLast() }
        #expect(load(shortValues)?.contains("one per bucket") == true)
        let tokenizer = editingField(artifact, "tokenizer") { _ in "99" }
        #expect(load(tokenizer)?.contains("retrain the model") == true)
        let threshold = editingField(artifact, "threshold") { _ in "1.5" }
        #expect(load(threshold)?.contains("threshold is 1.5") == true)
        let forest = artifact.replacingOccurrences(of: "\"log_severity\"", with: "\"isolation_forest\"")
        #expect(load(forest)?.contains("expected 'log_severity'") == true)
        #expect(load(String(artifact.prefix(200)))?.contains("not valid JSON") == true)
        #expect(
            modelErrorMessage { try LogClassifier.load(path: "/nonexistent/log.json") }?.contains(
                "/nonexistent/log.json") == true)
    }

    @Test func trainingNeedsBothClassesAndSaneParameters() {
        let routine = templatedLogs(count: 30, seed: 1).filter { !$0.critical }
        #expect(
            modelErrorMessage { try LogClassifier.train(routine) }?.contains("both critical and not-critical") == true)
        var bits = logParameters()
        bits.hashBits = 30
        #expect(
            modelErrorMessage { try LogClassifier.train(templatedLogs(count: 30, seed: 1), parameters: bits) }?
                .contains("hash bits") == true)
    }
}
