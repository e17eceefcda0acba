// Measures the Isolation Forest: batched scoring against a naive tree walk, and AUC against published references.

import BenchmarkSupport
import Foundation
import Models

/// Trains on synthetic data with 3 features (the sensor profile) and with 36, then scores
/// `rows` fresh rows single-threaded three ways: the batched `score(_:into:)`, the one-row
/// `score(_:)`, and a naive baseline written here (one row at a time, a recursive walk over a
/// node array with explicit child indices, no blocking) built from the same model's
/// artifact. All three must give bit-identical scores; the benchmark stops if they do not.
func runScoringBenchmark(rows: Int) -> [BenchResult] {
    let rows = max(rows, 1)
    var results: [BenchResult] = []
    let reference =
        "scikit-learn 1.9 score_samples, 100 trees, here: ~342k rows/s batched, ~310 rows/s one row per call"
    for features in [3, 36] {
        let model: IsolationForest
        let data: FeatureMatrix
        do {
            let training: FeatureMatrix
            let names: [String]
            if features == 3 {
                training = SensorProfile.normalReadings(count: 20_000, seed: 1)
                data = SensorProfile.normalReadings(count: rows, seed: 2)
                names = SensorProfile.featureNames
            } else {
                training = clusteredRows(count: 20_000, features: features, seed: 1)
                data = clusteredRows(count: rows, features: features, seed: 2)
                names = (0..<features).map { "f\($0)" }
            }
            model = try IsolationForest.train(training, featureNames: names, parameters: .init())
        } catch {
            return results + [
                BenchResult(name: "models.scoring.\(features)f", perSecond: 0, note: "training failed: \(error)")
            ]
        }
        let naive = NaiveForest(artifact: try! model.artifactJSON())

        var batched: [Double] = []
        let batchedRate = bestRate(rows: data.rows, runs: 5) {
            model.score(data, into: &batched)
            return batched[batched.count / 2]
        }
        var single = [Double](repeating: 0, count: data.rows)
        let singleRate = bestRate(rows: data.rows, runs: 3) {
            for row in 0..<data.rows { single[row] = model.score(data[row]) }
            return single[single.count / 2]
        }
        var baseline = [Double](repeating: 0, count: data.rows)
        let naiveRate = bestRate(rows: data.rows, runs: 3) {
            for row in 0..<data.rows { baseline[row] = naive.score(data[row]) }
            return baseline[baseline.count / 2]
        }
        for row in 0..<data.rows {
            precondition(
                batched[row] == single[row] && batched[row] == baseline[row],
                "row \(row): batched \(batched[row]), one-row \(single[row]), naive \(baseline[row]) differ")
        }
        let setting = "\(features) features, 100 trees, psi 256, \(data.rows) rows, 1 thread"
        results.append(
            BenchResult(
                name: "models.scoring.\(features)f.naive", perSecond: naiveRate,
                note: "baseline: recursive walk over left/right child indices, one row at a time; \(setting)"))
        results.append(
            BenchResult(
                name: "models.scoring.\(features)f.one-row", perSecond: singleRate,
                note: String(
                    format: "IsolationForest.score(row), %.1fx naive; identical scores", singleRate / naiveRate)))
        results.append(
            BenchResult(
                name: "models.scoring.\(features)f.batched", perSecond: batchedRate,
                note: String(
                    format:
                        "IsolationForest.score(_:into:), %.1fx naive, %.1fx sklearn batched; identical scores. Ref: %@",
                    batchedRate / naiveRate, batchedRate / 342_000, reference)))
    }
    return results
}

/// For each dataset of `iforest-reference-auc/iforest_reference_auc.csv` under `datasetsPath`,
/// trains t = 100, ψ = 256 on all rows (labels unused, as the reference did) with seeds
/// 0..<seeds, scores all rows with the batched scorer and compares the mean AUC with the
/// paper and scikit-learn. Prints a table; returns one result per dataset (rows scored per
/// second of training + scoring, AUC in the note).
func runQualityBenchmark(datasetsPath: String, seeds: Int = 5) throws -> [BenchResult] {
    let referencePath = "\(datasetsPath)/iforest-reference-auc/iforest_reference_auc.csv"
    guard FileManager.default.fileExists(atPath: referencePath) else {
        print("quality benchmark skipped: \(referencePath) not found")
        return [BenchResult(name: "models.quality", perSecond: 0, note: "skipped: \(referencePath) not found")]
    }
    let references = try String(contentsOfFile: referencePath, encoding: .utf8)
        .split(whereSeparator: \.isNewline).dropFirst()
        .map { ReferenceRow(line: String($0)) }
    let seeds = max(seeds, 1)

    var results: [BenchResult] = []
    var table: [String] = []
    func tableLine(_ cells: [String]) -> String {
        let widths = [12, 7, 4, 17, 6, 8, 8, 7, 6]
        return zip(cells, widths).map { cell, width in
            cell.count >= width ? cell : String(repeating: " ", count: width - cell.count) + cell
        }.joined(separator: " ")
    }
    table.append(tableLine(["dataset", "n", "d", "ours (mean±std)", "paper", "sklearn", "|diff|", "≤0.02", "s/run"]))
    print("Isolation Forest AUC, t=100, psi=256, trained and scored on all rows, seeds 0..<\(seeds)")
    print(table[0])
    for reference in references {
        let folder = "\(datasetsPath)/odds-\(reference.name)"
        let table: (data: FeatureMatrix, featureNames: [String], labels: [Bool]?)
        do {
            if FileManager.default.fileExists(atPath: "\(folder)/\(reference.name).csv") {
                table = try CSVTable.read(path: "\(folder)/\(reference.name).csv", features: nil, labelColumn: "label")
            } else if FileManager.default.fileExists(atPath: "\(folder)/\(reference.name).csv.gz") {
                let text = try gunzip("\(folder)/\(reference.name).csv.gz")
                table = try CSVTable.read(
                    text: text, name: "\(reference.name).csv.gz", features: nil, labelColumn: "label")
            } else {
                print("skip \(reference.name): no \(folder)/\(reference.name).csv or .csv.gz")
                results.append(
                    BenchResult(
                        name: "models.quality.\(reference.name)", perSecond: 0, note: "skipped: dataset file missing"))
                continue
            }
        } catch {
            print("skip \(reference.name): \(error)")
            results.append(
                BenchResult(name: "models.quality.\(reference.name)", perSecond: 0, note: "skipped: \(error)"))
            continue
        }
        let labels = table.labels ?? []
        var aucs: [Double] = []
        var scores: [Double] = []
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        for seed in 0..<seeds {
            var parameters = IsolationForest.Parameters()
            parameters.seed = UInt64(seed)
            parameters.trainedAt = "2026-01-01T00:00:00Z"
            elapsed += try clock.measure {
                let model = try IsolationForest.train(
                    table.data, featureNames: table.featureNames, parameters: parameters)
                model.score(table.data, into: &scores)
            }
            aucs.append(ROC.auc(scores: scores, labels: labels))
        }
        let mean = aucs.reduce(0, +) / Double(aucs.count)
        let std = (aucs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(aucs.count)).squareRoot()
        let difference = abs(mean - reference.sklearnMean)
        let seconds = Bench.seconds(elapsed) / Double(seeds)
        let line = tableLine([
            reference.name, "\(table.data.rows)", "\(table.data.columns)",
            String(format: "%.4f ± %.4f", mean, std),
            reference.paper.map { String(format: "%.2f", $0) } ?? "–",
            String(format: "%.4f", reference.sklearnMean), String(format: "%.4f", difference),
            difference <= 0.02 ? "yes" : "NO", String(format: "%.2f", seconds),
        ])
        print(line)
        results.append(
            BenchResult(
                name: "models.quality.\(reference.name)", perSecond: Double(table.data.rows) / seconds,
                note: String(
                    format: "AUC %.4f ± %.4f over %d seeds; sklearn %.4f ± %.4f; |diff| %.4f (%@); "
                        + "sklearn %.2f s/run",
                    mean, std, seeds, reference.sklearnMean, reference.sklearnStd, difference,
                    difference <= 0.02 ? "within 0.02" : "NOT within 0.02", reference.sklearnSeconds)))
    }
    return results
}

/// One line of the reference table: dataset,n,d,outliers,paper,sklearn mean,sklearn std,seconds.
private struct ReferenceRow {
    var name: String
    var paper: Double?
    var sklearnMean: Double
    var sklearnStd: Double
    var sklearnSeconds: Double

    init(line: String) {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        name = cells[0]
        paper = Double(cells[4])
        sklearnMean = Double(cells[5]) ?? .nan
        sklearnStd = Double(cells[6]) ?? .nan
        sklearnSeconds = Double(cells[7]) ?? .nan
    }
}

/// The same forest as a plain node array with child indices, walked recursively: the
/// straightforward implementation the flat, blocked layout is measured against.
private struct NaiveForest {
    struct Node {
        var feature: Int
        var threshold: Double
        var left: Int  // -1 for an external node
        var right: Int
        var pathLength: Double
    }

    private(set) var nodes: [Node] = []
    private(set) var roots: [Int] = []
    let normalizer: Double

    init(artifact: [UInt8]) {
        let decoded = try! IsolationForest.decodedArtifact(artifact)
        precondition(decoded.scaler == nil, "the naive baseline does not standardise")
        let trees = decoded.trees
        normalizer = IsolationForest.averagePathLengthOfUnsuccessfulSearch(trees.subsample)
        let internalCount = (1 << trees.depth) - 1
        let leafCount = 1 << trees.depth
        for tree in 0..<trees.count {
            roots.append(add(tree: tree, slot: 0, level: 0))
        }

        func add(tree: Int, slot: Int, level: Int) -> Int {
            if level == trees.depth {
                return append(
                    Node(
                        feature: 0, threshold: 0, left: -1, right: -1,
                        pathLength: trees.leafValues[tree * leafCount + slot - internalCount]))
            }
            guard let threshold = trees.thresholds[tree * internalCount + slot] else {
                // A pass-through chain is one external node; its value sits at the leftmost leaf.
                var leftmost = slot
                for _ in level..<trees.depth { leftmost = 2 * leftmost + 1 }
                return append(
                    Node(
                        feature: 0, threshold: 0, left: -1, right: -1,
                        pathLength: trees.leafValues[tree * leafCount + leftmost - internalCount]))
            }
            let index = append(
                Node(
                    feature: trees.features[tree * internalCount + slot], threshold: threshold,
                    left: -1, right: -1, pathLength: 0))
            let left = add(tree: tree, slot: 2 * slot + 1, level: level + 1)
            let right = add(tree: tree, slot: 2 * slot + 2, level: level + 1)
            nodes[index].left = left
            nodes[index].right = right
            return index
        }
    }

    private mutating func append(_ node: Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    func score(_ row: ArraySlice<Double>) -> Double {
        var sum = 0.0
        for root in roots { sum += pathLength(root, row) }
        return exp2(-(sum / Double(roots.count)) / normalizer)
    }

    private func pathLength(_ index: Int, _ row: ArraySlice<Double>) -> Double {
        let node = nodes[index]
        if node.left < 0 { return node.pathLength }
        return pathLength(row[row.startIndex + node.feature] < node.threshold ? node.left : node.right, row)
    }
}

/// Rows from four gaussian clusters with per-cluster means and spreads per feature.
private func clusteredRows(count: Int, features: Int, seed: UInt64) -> FeatureMatrix {
    var centres = SplitMix64(seed: 0xC1A5_7E25)
    let clusters = (0..<4).map { _ in
        (0..<features).map { _ in (mean: centres.unit() * 100 - 50, spread: 1 + centres.unit() * 9) }
    }
    var random = SplitMix64(seed: seed)
    var data = FeatureMatrix(columns: features, capacity: count)
    var row = [Double](repeating: 0, count: features)
    for _ in 0..<count {
        let cluster = clusters[Int(random.next() % 4)]
        for f in 0..<features { row[f] = cluster[f].mean + cluster[f].spread * random.gaussian() }
        data.append(row: row)
    }
    return data
}

private extension SplitMix64 {
    mutating func gaussian() -> Double {
        (-2 * log(1 - unit())).squareRoot() * cos(2 * Double.pi * unit())
    }
}

/// `/bin/gzip -dc path`, read into memory.
private func gunzip(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-dc", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ModelError("gzip -dc \(path) exited with status \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// Rows per second of the best of `runs` timed runs of `body`, after one warm-up run.
private func bestRate(rows: Int, runs: Int, _ body: () -> Double) -> Double {
    let clock = ContinuousClock()
    var sink = body()
    var best = Duration.seconds(Int64.max)
    for _ in 0..<runs {
        best = min(best, clock.measure { sink += body() })
    }
    if sink == 42 { print("") }  // keeps the work observable
    return Double(rows) / Bench.seconds(best)
}
