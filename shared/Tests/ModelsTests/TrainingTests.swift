// Training: determinism, the two scoring paths, separation of outliers, scaling and cut points.

import Events
import Models
import Testing

@Suite(.computeThread) struct TrainingTests {
    let training = SensorProfile.normalReadings(count: 5_000, seed: 7)
    let fresh = SensorProfile.normalReadings(count: 1_000, seed: 8)

    @Test func sameSeedGivesIdenticalArtifactBytesAndScores() throws {
        let first = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames, parameters: parameters(seed: 42))
        let second = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames, parameters: parameters(seed: 42))
        #expect(try first.artifactJSON() == second.artifactJSON())
        #expect(first.version == second.version)
        var firstScores: [Double] = [], secondScores: [Double] = []
        first.score(fresh, into: &firstScores)
        second.score(fresh, into: &secondScores)
        #expect(firstScores == secondScores)
    }

    @Test func differentSeedGivesDifferentForest() throws {
        let first = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames, parameters: parameters(seed: 1))
        let second = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames, parameters: parameters(seed: 2))
        #expect(first.version != second.version)
        #expect(try first.artifactJSON() != second.artifactJSON())
        var firstScores: [Double] = [], secondScores: [Double] = []
        first.score(fresh, into: &firstScores)
        second.score(fresh, into: &secondScores)
        #expect(firstScores != secondScores)
    }

    @Test func versionIsModelNameAndTwelveHexDigits() {
        let version = defaultSensorModel.version
        #expect(version.hasPrefix("isolation_forest@"))
        let hex = version.dropFirst("isolation_forest@".count)
        #expect(hex.count == 12 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }

    @Test(arguments: [false, true])
    func batchedAndSingleRowScoringAgreeExactly(standardize: Bool) throws {
        let model = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames,
            parameters: parameters(trees: 50, standardize: standardize))
        var batched = [Double](repeating: -1, count: 3)  // resized by score(_:into:)
        model.score(fresh, into: &batched)
        #expect(batched.count == fresh.rows)
        for row in 0..<fresh.rows {
            #expect(model.score(fresh[row]) == batched[row])
            #expect(model.score(Array(fresh[row])) == batched[row])
            #expect(model.score(fresh[row].lazy.map { $0 }) == batched[row])  // non-contiguous collection
        }
        // A batch that is not a whole number of blocks, and an empty one.
        var partial: [Double] = []
        model.score(rows(fresh, 0..<37), into: &partial)
        #expect(partial == Array(batched[0..<37]))
        model.score(FeatureMatrix(columns: 3), into: &partial)
        #expect(partial.isEmpty)
    }

    @Test func obviousOutlierScoresFarAboveInliers() {
        let model = defaultSensorModel
        var scores: [Double] = []
        model.score(fresh, into: &scores)
        let sorted = scores.sorted()
        let median = sorted[sorted.count / 2]
        let outlier = model.score([45.0, 960.0, 0.3])
        #expect(median < 0.5)
        #expect(outlier > 0.7)
        #expect(outlier > sorted.last!)
        #expect(model.severity(forScore: outlier) == .critical)
    }

    @Test func standardisationKeepsTheRanking() throws {
        let plain = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames, parameters: parameters(seed: 3))
        let scaled = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames, parameters: parameters(seed: 3, standardize: true))
        #expect(plain.version != scaled.version)
        var plainScores: [Double] = [], scaledScores: [Double] = []
        plain.score(fresh, into: &plainScores)
        scaled.score(fresh, into: &scaledScores)
        // Splits are uniform in [min, max), so the same draws give the same partitions in
        // z-score space: the ranking (and, up to rounding, the scores) must not change.
        let plainOrder = plainScores.indices.sorted { (plainScores[$0], $0) < (plainScores[$1], $1) }
        let scaledOrder = scaledScores.indices.sorted { (scaledScores[$0], $0) < (scaledScores[$1], $1) }
        #expect(plainOrder == scaledOrder)
        #expect(zip(plainScores, scaledScores).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test(arguments: [0.01, 0.05])
    func contaminationThresholdFlagsThatFractionOfTrainingData(contamination: Double) throws {
        let data = SensorProfile.normalReadings(count: 20_000, seed: 5)
        let model = try IsolationForest.train(
            data, featureNames: SensorProfile.featureNames, parameters: parameters(contamination: contamination))
        var scores: [Double] = []
        model.score(data, into: &scores)
        let flagged = Double(scores.filter(model.isAnomaly(score:)).count) / Double(scores.count)
        #expect(abs(flagged - contamination) <= 0.001, "flagged \(flagged)")
        #expect(model.threshold == model.warningCutPoint)
        #expect(model.criticalCutPoint > model.warningCutPoint)
        #expect(model.trainingRows == 20_000)
    }

    @Test func explicitThresholdIsUsedAsIs() throws {
        let model = try IsolationForest.train(
            training, featureNames: SensorProfile.featureNames, parameters: parameters(explicitThreshold: 0.55))
        #expect(model.threshold == 0.55)
        #expect(model.warningCutPoint == 0.55)
        #expect(model.criticalCutPoint > 0.55)
        #expect(model.isAnomaly(score: 0.55))
        #expect(!model.isAnomaly(score: 0.549))
    }

    @Test func warningAndCriticalAreBothReachableOnFreshNormalAndSpikedData() {
        let model = defaultSensorModel
        var data = SensorProfile.normalReadings(count: 5_000, seed: 99)
        // Faults push two or three readings out of range at once (see the saturation test
        // below for why a single out-of-range reading is not enough).
        let spikes: [[Double]] = (0..<20).map { i in
            let step = Double(i / 4)
            return switch i % 4 {
            case 0: [45 + step, 1012, 0.3]  // overheating bearing: hot and shaking
            case 1: [22, 960 - step, 0.3]  // pressure loss with vibration
            case 2: [45 + step, 960, 0.025]  // hot and low pressure
            default: [55 + step, 970, 0.3]  // everything at once
            }
        }
        for spike in spikes { data.append(row: spike) }
        var scores: [Double] = []
        model.score(data, into: &scores)
        let severities = scores.map(model.severity(forScore:))
        let normal = severities[0..<5_000]
        let spiked = Array(severities[5_000...])
        #expect(normal.filter { $0 == .none }.count > 4_850)
        #expect(normal.contains(.warning))
        #expect(spiked.allSatisfy { $0 != .none })
        #expect(stride(from: 3, to: 20, by: 4).allSatisfy { spiked[$0] == .critical })
        #expect(severities.contains(.warning) && severities.contains(.critical))
    }

    /// Split points lie between the subsample's min and max, so every value beyond the
    /// training range follows the same path as the most extreme training value: Isolation
    /// Forest, as published, does not score 60 °C above the hottest normal reading.
    @Test func scoresSaturateBeyondTheTrainingRange() {
        let model = defaultSensorModel
        let hottestNormal = model.score([30, 1012, 0.025])  // 30 °C is above every training reading
        #expect(model.score([60, 1012, 0.025]) == hottestNormal)
        #expect(model.score([600, 1012, 0.025]) == hottestNormal)
        #expect(!model.isAnomaly(score: hottestNormal))
    }

    @Test func theTrainingRangeOfEachFeatureIsRecordedAndFarOutliersAreRecognised() throws {
        let model = defaultSensorModel
        let ranges = try #require(model.trainingRanges)
        #expect(ranges.count == 3)
        let temperature = ranges[0]
        #expect(temperature.lowerBound < 22 && temperature.upperBound > 22)
        // The spike the forest cannot see is far outside the range.
        #expect(model.exceedsTrainingRange([60, 1012, 0.025], tolerance: 0.5))
        // Within the range, or just past it by less than the tolerance: not flagged.
        #expect(!model.exceedsTrainingRange([22, 1012, 0.025], tolerance: 0.5))
        let justPast = temperature.upperBound + (temperature.upperBound - temperature.lowerBound) * 0.1
        #expect(!model.exceedsTrainingRange([justPast, 1012, 0.025], tolerance: 0.5))
        #expect(model.exceedsTrainingRange([justPast, 1012, 0.025], tolerance: 0.05))
        // Below the range counts too; tolerance 0 turns the check off.
        #expect(model.exceedsTrainingRange([22, 1012, -1.0], tolerance: 0.5))
        #expect(!model.exceedsTrainingRange([600, 1012, 0.025], tolerance: 0))
    }

    @Test func trainingRangesSurviveTheArtifactAndOlderArtifactsWithoutThemStillLoad() throws {
        let model = defaultSensorModel
        let loaded = try IsolationForest(artifactJSON: try model.artifactJSON())
        #expect(loaded.trainingRanges == model.trainingRanges)
        // An artifact from before ranges were recorded: the same minus the two fields.
        let text = removingField(
            removingField(String(decoding: try model.artifactJSON(), as: UTF8.self), "feature_min"), "feature_max")
        #expect(!text.contains("feature_m"))
        let older = try IsolationForest(artifactJSON: Array(text.utf8))
        #expect(older.trainingRanges == nil)
        #expect(older.version == model.version)
        #expect(!older.exceedsTrainingRange([600, 1012, 0.025], tolerance: 0.5))
    }

    @Test func trainingAUCIsRecordedWhenLabelsAreGiven() throws {
        var data = rows(training, 0..<2_000)
        var labels = [Bool](repeating: false, count: 2_000)
        for i in 0..<20 {
            data.append(row: [50 + Double(i), 960, 0.3])
            labels.append(true)
        }
        let model = try IsolationForest.train(
            data, featureNames: SensorProfile.featureNames, parameters: parameters(), labels: labels)
        #expect(try #require(model.trainingAUC) > 0.99)
        #expect(defaultSensorModel.trainingAUC == nil)
    }

    @Test func subsampleIsCappedAtTheNumberOfRows() throws {
        let small = rows(training, 0..<100)
        let model = try IsolationForest.train(
            small, featureNames: SensorProfile.featureNames, parameters: parameters(trees: 10))
        let artifact = String(decoding: try model.artifactJSON(), as: UTF8.self)
        #expect(artifact.contains("\"depth\":7"))
        #expect(artifact.contains("\"subsample\":100"))
    }

    @Test func invalidTrainingInputsAreRejectedWithTheirReason() throws {
        let names = SensorProfile.featureNames
        #expect(
            modelErrorMessage {
                try IsolationForest.train(training, featureNames: ["a", "b"], parameters: parameters())
            }
                == "2 feature names for 3 columns of data")
        #expect(
            modelErrorMessage {
                try IsolationForest.train(training, featureNames: ["a", "a", "b"], parameters: parameters())
            }
                == "feature_names has 'a' twice")
        #expect(
            modelErrorMessage {
                try IsolationForest.train(rows(training, 0..<1), featureNames: names, parameters: parameters())
            }
                == "training needs at least 2 rows, got 1")
        #expect(
            modelErrorMessage {
                try IsolationForest.train(training, featureNames: names, parameters: parameters(contamination: 0))
            }
                == "parameter contamination is 0.0, expected a fraction in (0, 0.5]")
        #expect(
            modelErrorMessage {
                try IsolationForest.train(training, featureNames: names, parameters: parameters(subsample: 1))
            }
                == "parameter subsample is 1, expected 2...16777216")
        #expect(
            modelErrorMessage {
                try IsolationForest.train(training, featureNames: names, parameters: parameters(trees: 0))
            }
                == "parameter trees is 0, expected 1...100000")
        #expect(
            modelErrorMessage {
                try IsolationForest.train(training, featureNames: names, parameters: parameters(), labels: [true])
            } == "1 labels for 5000 rows")
        var withNaN = rows(training, 0..<10)
        withNaN.append(row: [20, .nan, 0.02])
        #expect(
            modelErrorMessage { try IsolationForest.train(withNaN, featureNames: names, parameters: parameters()) }
                == "training row 10, feature pressure: nan is not a finite number")
    }
}

@Suite(.computeThread) struct SensorProfileTests {
    @Test func normalReadingsStayInTheirPhysicalRanges() {
        let data = SensorProfile.normalReadings(count: 10_000, seed: 3)
        #expect(data.rows == 10_000 && data.columns == 3)
        for row in 0..<data.rows {
            let reading = data[row]
            let (temperature, pressure, vibration) = (
                reading[reading.startIndex], reading[reading.startIndex + 1], reading[reading.startIndex + 2]
            )
            #expect(
                (15...30).contains(temperature) && (990...1030).contains(pressure) && (0.01...0.05).contains(vibration))
        }
        #expect(SensorProfile.normalReadings(count: 100, seed: 3) == rows(data, 0..<100))
        #expect(SensorProfile.normalReadings(count: 100, seed: 4) != rows(data, 0..<100))
    }

    @Test func defaultModelIsTrainedOnTwentyThousandReadings() {
        #expect(defaultSensorModel.featureNames == ["temperature", "pressure", "vibration"])
        #expect(defaultSensorModel.trainingRows == 20_000)
    }
}

@Suite struct FeatureMatrixTests {
    @Test func rowsAreStoredRowMajorAndCanBeCleared() throws {
        var matrix = try FeatureMatrix(rows: [[1, 2], [3, 4]])
        #expect(matrix.values == [1, 2, 3, 4])
        #expect(Array(matrix[1]) == [3, 4])
        matrix.append(row: [5, 6])
        #expect(matrix.rows == 3)
        matrix.removeAll()
        #expect(matrix.rows == 0 && matrix.values.isEmpty && matrix.columns == 2)
    }

    @Test func raggedOrEmptyRowsAreRejected() {
        #expect(
            modelErrorMessage { try FeatureMatrix(rows: [[1, 2], [3]]) } == "row 1 has 1 values, expected 2 like row 0")
        #expect(modelErrorMessage { try FeatureMatrix(rows: []) } != nil)
    }
}
