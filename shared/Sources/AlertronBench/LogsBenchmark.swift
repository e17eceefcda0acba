// Measures the log severity classifier's speed on one core, next to two baselines run on the
// same lines: the obvious String implementation of the same features, and a bare rule.

import Foundation
import Models

/// Trains on the corpus at `corpusPath`, then classifies `count` lines (the corpus's messages,
/// and BGL's when `datasetsPath` holds it, repeated) single-threaded three ways, best of 5:
/// - `LogClassifier.probability(of:level:)`, the scorer's path;
/// - a naive baseline: `LogTokenizer.tokens` as Strings, bigrams joined into Strings, each
///   looked up in a `[String: Double]` vocabulary (the usual bag-of-words code);
/// - the rule `line.contains("FATAL")`, as the floor of what any per-line check costs;
/// and the service's whole path, `LogJudge.judge` (templates and signals), next to the classifier.
func runLogsBenchmark(corpusPath: String, datasetsPath: String, count: Int) throws -> [BenchResult] {
    let corpus = try LabeledLogs.read(path: corpusPath, format: .jsonl)
    let model = try LogClassifier.train(corpus)
    var messages = corpus.map(\.message)
    var source = "the corpus (\(corpus.count) lines)"
    let bgl = datasetsPath + "/loghub-bgl-2k/BGL_2k.log"
    if let logs = try? LabeledLogs.read(path: bgl, format: .loghub) {
        messages += logs.map(\.message)
        source += " and BGL 2k (\(logs.count) lines)"
    }
    let lines = (0..<max(count, 1)).map { messages[$0 % messages.count] }
    let bytes = lines.reduce(0) { $0 + $1.utf8.count }

    var vocabulary: [String: Double] = [:]
    for (index, message) in messages.enumerated() {
        let tokens = LogTokenizer.tokens(message)
        for (position, token) in tokens.enumerated() {
            vocabulary[token] = Double(index % 7) / 10
            if position > 0 { vocabulary[tokens[position - 1] + " " + token] = Double(index % 5) / 10 }
        }
    }

    var critical = 0
    let classified = bestLineRate(lines: lines.count, runs: 5) {
        critical = 0
        for line in lines where model.isCritical(probability: model.probability(of: line)) { critical += 1 }
        return critical
    }
    let naive = bestLineRate(lines: lines.count, runs: 5) {
        var flagged = 0
        for line in lines {
            let tokens = LogTokenizer.tokens(line)
            var sum = 0.0
            for (position, token) in tokens.enumerated() {
                sum += vocabulary[token] ?? 0
                if position > 0 { sum += vocabulary[tokens[position - 1] + " " + token] ?? 0 }
            }
            if 1 / (1 + exp(-sum / Double(max(1, 2 * tokens.count)).squareRoot())) >= 0.5 { flagged += 1 }
        }
        return flagged
    }
    let rule = bestLineRate(lines: lines.count, runs: 5) {
        lines.reduce(0) { $0 + ($1.contains("FATAL") ? 1 : 0) }
    }
    // The service's path: the classifier, the source's templates and both signals, one source
    // per 10,000 lines (each run starts with empty templates, as a new replica would).
    var settings = LogJudge.Settings()
    settings.noveltyProbability = 0.35
    settings.templates.burstFactor = 10
    let sources = (0..<max(1, lines.count / 10_000)).map { "source-\($0)" }
    let judged = bestLineRate(lines: lines.count, runs: 5) {
        var judge = LogJudge(settings: settings)
        var flagged = 0
        for (index, line) in lines.enumerated() {
            let verdict = judge.judge(
                line, source: sources[index % sources.count], time: Double(index) / 1000, classifier: model)
            if verdict.critical { flagged += 1 }
        }
        return flagged
    }
    let setting = "\(lines.count) lines from \(source), mean \(bytes / lines.count) bytes, 1 thread"
    return [
        BenchResult(
            name: "logs.rule-contains-FATAL", perSecond: rule, note: "floor: String.contains per line; \(setting)"),
        BenchResult(
            name: "logs.naive-string-features", perSecond: naive,
            note: "baseline: the same tokens and bigrams as Strings, looked up in a [String: Double]"),
        BenchResult(
            name: "logs.classify", perSecond: classified,
            note: String(
                format: "LogClassifier.probability: %.1fx naive, %.2fx the rule; %.0f MB/s; %d of %d critical",
                classified / naive, classified / rule, classified * Double(bytes) / Double(lines.count) / 1e6,
                critical, lines.count)),
        BenchResult(
            name: "logs.judge-with-templates", perSecond: judged,
            note: String(
                format:
                    "LogJudge.judge (classifier + Drain templates + new-template and burst signals): %.2fx classify",
                judged / classified)),
    ]
}

/// Lines per second of the best of `runs` timed runs of `body`, after one warm-up run.
private func bestLineRate(lines: Int, runs: Int, _ body: () -> Int) -> Double {
    let clock = ContinuousClock()
    var sink = body()
    var best = Duration.seconds(Int64.max)
    for _ in 0..<runs {
        best = min(best, clock.measure { sink &+= body() })
    }
    if sink == 42 { print("") }  // keeps the work observable
    let (seconds, attoseconds) = best.components
    return Double(lines) / (Double(seconds) + Double(attoseconds) / 1e18)
}
