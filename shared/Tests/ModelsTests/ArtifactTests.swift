// The JSON artifact: exact round trips, atomic files, and a precise error for each kind of damage.

import Foundation
import Models
import Testing

@Suite(.computeThread) struct ArtifactTests {
    static let model: IsolationForest = {
        let data = SensorProfile.normalReadings(count: 3_000, seed: 11)
        return try! IsolationForest.train(
            data, featureNames: SensorProfile.featureNames, parameters: parameters(seed: 9))
    }()
    static let artifact = String(decoding: try! model.artifactJSON(), as: UTF8.self)

    func load(_ text: String) -> String? {
        modelErrorMessage { try IsolationForest(artifactJSON: Array(text.utf8)) }
    }

    @Test(arguments: [false, true])
    func roundTripIsExact(standardize: Bool) throws {
        let data = SensorProfile.normalReadings(count: 2_000, seed: 12)
        var labels = [Bool](repeating: false, count: data.rows)
        labels[0] = true
        let model = try IsolationForest.train(
            data, featureNames: SensorProfile.featureNames, parameters: parameters(trees: 20, standardize: standardize),
            labels: labels)
        let bytes = try model.artifactJSON()
        let loaded = try IsolationForest(artifactJSON: bytes)
        #expect(try loaded.artifactJSON() == bytes)
        #expect(loaded.version == model.version)
        #expect(loaded.featureNames == model.featureNames)
        #expect(loaded.threshold == model.threshold)
        #expect(loaded.warningCutPoint == model.warningCutPoint)
        #expect(loaded.criticalCutPoint == model.criticalCutPoint)
        #expect(loaded.trainingRows == model.trainingRows)
        #expect(loaded.trainingAUC == model.trainingAUC && model.trainingAUC != nil)
        var original: [Double] = [], reloaded: [Double] = []
        model.score(data, into: &original)
        loaded.score(data, into: &reloaded)
        #expect(original == reloaded)
    }

    @Test func artifactHasTheDocumentedFields() throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(Self.artifact.utf8)) as? [String: Any])
        #expect(json["format_version"] as? Int == 1)
        #expect(json["model"] as? String == "isolation_forest")
        #expect("isolation_forest@\(json["version"] as? String ?? "")" == Self.model.version)
        #expect(json["feature_names"] as? [String] == SensorProfile.featureNames)
        #expect(json["scaler"] == nil)  // optional: absent without a scaler
        let trees = try #require(json["trees"] as? [String: Any])
        #expect(trees["count"] as? Int == 100 && trees["depth"] as? Int == 8 && trees["subsample"] as? Int == 256)
        #expect((trees["features"] as? [Any])?.count == 100 * 255)
        #expect((trees["thresholds"] as? [Any])?.count == 100 * 255)
        #expect((trees["leaf_values"] as? [Any])?.count == 100 * 256)
        let training = try #require(json["training"] as? [String: Any])
        #expect(training["rows"] as? Int == 3_000 && training["seed"] as? Int == 9)
        #expect(training["trained_at"] as? String == fixedTrainedAt)
        #expect(training["contamination"] as? Double == 0.01 && training["explicit_threshold"] == nil)
        // Foundation's JSONSerialization may round the last bit; the exact round trip is tested above.
        let severity = try #require(json["severity"] as? [String: Double])
        #expect(abs(severity["warning"]! - Self.model.warningCutPoint) < 1e-15)
        #expect(abs(severity["critical"]! - Self.model.criticalCutPoint) < 1e-15)
    }

    @Test func writeThenLoadGivesTheSameModelAndLeavesNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/model.json"
        try Self.model.write(to: path)
        try Self.model.write(to: path)  // replacing an existing artifact
        let loaded = try IsolationForest.load(path: path)
        #expect(try loaded.artifactJSON() == Self.model.artifactJSON())
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.json"])
    }

    @Test func loadingAMissingFileNamesThePath() {
        let message = modelErrorMessage { try IsolationForest.load(path: "/nonexistent/model.json") }
        #expect(message == "cannot read model artifact /nonexistent/model.json: No such file or directory")
    }

    @Test func corruptFileOnDiskIsReportedWithItsPath() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/model.json"
        try Data(Self.artifact.utf8.prefix(100)).write(to: URL(fileURLWithPath: path))
        let message = try #require(modelErrorMessage { try IsolationForest.load(path: path) })
        #expect(message.hasPrefix("model artifact \(path): not valid JSON"))
    }

    @Test func truncatedJSONIsRejected() {
        let truncated = String(Self.artifact.prefix(Self.artifact.count / 2))
        for text in [truncated, "", "{\"format_version\": 1,, }"] {
            let message = load(text)
            #expect(message?.hasPrefix("not valid JSON: ") == true, "\(message ?? "loaded")")
        }
        #expect(load("[1, 2]") == "expected a JSON object, found an array")
    }

    @Test func wrongFormatVersionIsRejected() {
        let edited = editingField(Self.artifact, "format_version") { _ in "2" }
        #expect(load(edited) == "format_version is 2, but this build reads only format_version 1")
    }

    @Test func wrongArrayLengthIsRejectedWithExpectedCount() {
        let edited = editingArray(Self.artifact, key: "features") { $0.removeLast(100) }
        #expect(load(edited) == "trees.features has 25400 entries, expected 25500 (100 trees × 255)")
        let leaves = editingArray(Self.artifact, key: "leaf_values") { $0.append("1.0") }
        #expect(load(leaves) == "trees.leaf_values has 25601 entries, expected 25600 (100 trees × 256)")
    }

    @Test func featureIndexOutOfRangeIsRejected() {
        let edited = editingArray(Self.artifact, key: "features") { $0[17] = "3" }
        #expect(load(edited) == "trees.features[17] is 3, but the model has 3 features (valid 0...2)")
    }

    @Test func nonFiniteNumbersAreRejected() {
        // JSON has no NaN or infinity: Python's json module writes them anyway; they are refused.
        let nanThreshold = editingField(Self.artifact, "threshold") { _ in "NaN" }
        #expect(load(nanThreshold)?.hasPrefix("not valid JSON: ") == true)
        let overflow = editingField(Self.artifact, "threshold") { _ in "1e999" }
        let overflowMessage = load(overflow)
        #expect(
            overflowMessage == "threshold is inf, expected a finite number"
                || overflowMessage?.hasPrefix("field 'threshold'") == true
                || overflowMessage?.hasPrefix("not valid JSON") == true, "\(overflowMessage ?? "loaded")")
        let nanSplit = editingArray(Self.artifact, key: "thresholds") { $0[0] = "NaN" }
        #expect(load(nanSplit)?.hasPrefix("not valid JSON: ") == true)
        let negativeLeaf = editingArray(Self.artifact, key: "leaf_values") { $0[5] = "-1" }
        #expect(load(negativeLeaf) == "trees.leaf_values[5] is -1.0, expected a path length >= 0")
    }

    @Test func warningAboveCriticalIsRejected() {
        let warning = Self.model.warningCutPoint
        let edited = editingField(Self.artifact, "severity") { _ in "{\"critical\":0.25,\"warning\":\(warning)}" }
        #expect(load(edited) == "severity.warning (\(warning)) is above severity.critical (0.25)")
    }

    @Test func missingFieldIsNamed() {
        #expect(load(removingField(Self.artifact, "threshold")) == "missing field 'threshold'")
        #expect(load(removingField(Self.artifact, "seed")) == "missing field 'training.seed'")
        let wrongType = editingField(Self.artifact, "count") { _ in "\"100\"" }
        #expect(load(wrongType) == "field 'trees.count' should be an integer, found a string")
        let nullName = editingArray(Self.artifact, key: "feature_names") { $0[1] = "null" }
        #expect(load(nullName) == "field 'feature_names[1]' should be a string, found null")
    }

    @Test func editedContentNoLongerMatchesItsVersion() {
        let edited = editingArray(Self.artifact, key: "leaf_values") { $0[0] = "0.5" }
        let message = load(edited)
        #expect(
            message?.hasPrefix(
                "version '\(Self.model.version.dropFirst("isolation_forest@".count))' does not match the content")
                == true)
    }

    @Test func otherInconsistenciesAreRejected() {
        #expect(
            load(editingField(Self.artifact, "model") { _ in "\"random_forest\"" })
                == "model is 'random_forest', expected 'isolation_forest'")
        #expect(
            load(editingField(Self.artifact, "depth") { _ in "9" })
                == "trees.depth is 9, expected 8 = ceil(log2(subsample 256))")
        #expect(
            load(editingField(Self.artifact, "threshold") { _ in "0.5" })
                == """
                severity.warning (\(Self.model.warningCutPoint)) differs from threshold (0.5); the warning band \
                starts at the threshold
                """
        )
        let twoNames = load(editingField(Self.artifact, "feature_names") { _ in "[\"a\",\"b\"]" })
        #expect(twoNames?.hasPrefix("trees.features[") == true)
        #expect(twoNames?.hasSuffix("] is 2, but the model has 2 features (valid 0...1)") == true)
        #expect(
            load(editingField(Self.artifact, "trained_at") { _ in "\"yesterday\"" })
                == "training.trained_at 'yesterday' is not an RFC 3339 timestamp")
        #expect(
            load(editingField(Self.artifact, "contamination") { _ in "null" })
                == "training needs exactly one of contamination and explicit_threshold")
    }
}
