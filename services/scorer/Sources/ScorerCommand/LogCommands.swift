// `scorer train-logs` and `scorer classify`: the log severity model's command line, in the
// binary that serves it, so what is trained is exactly what is served.
import ArgumentParser
import Foundation
import Models
import Scorer

extension ScorerCommand {
    struct TrainLogs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-logs",
            abstract: "Train the log severity classifier from labeled lines and write its artifact.",
            discussion: """
                jsonl: one object per line, {"message": "...", "label": "critical" | "not_critical", \
                "level": "..."} (level optional).
                loghub: Loghub's labeled logs; a first token '-' is a routine line, any other first token an \
                alert category (critical).
                Bad lines fail the run and are listed by line number.
                """)
        @Option(help: "Labeled log lines.") var input: String
        @Option(help: "Where to write the model artifact (JSON).") var out: String
        @Option(help: "Input format: jsonl or loghub.") var format: LogLineFormat = .jsonl
        @Option(help: "Random seed of the shuffles; the same seed and data give the same model.") var seed: UInt64 = 1
        @Option(help: "Passes over the training lines.") var epochs = LogClassifier.Parameters().epochs
        @Option(name: .customLong("hash-bits"), help: "Feature buckets are 2^hash-bits (10...24).")
        var hashBits = LogClassifier.Parameters().hashBits
        @Option(
            name: .customLong("trained-at"),
            help: "RFC 3339 time to record instead of now (makes the artifact bytes reproducible).")
        var trainedAt: String?

        func run() throws {
            let examples = try LabeledLogs.read(path: input, format: format)
            var parameters = LogClassifier.Parameters()
            parameters.seed = seed
            parameters.epochs = epochs
            parameters.hashBits = hashBits
            parameters.trainedAt = trainedAt
            let model = try LogClassifier.train(examples, parameters: parameters)
            try model.write(to: out)
            print(
                "wrote \(out): \(model.version), \(model.trainingRows) lines (\(model.trainingCritical) critical), "
                    + String(format: "threshold %.4f, training F1 %.4f", model.threshold, model.trainingF1))
        }
    }

    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Classify log lines from stdin: prints 'label<TAB>probability' per line (critical or not_critical).",
            discussion: """
                raw: the whole line is the message. loghub: the first token (the label) is skipped. jsonl: the \
                'message' and 'level' fields are read. A line that cannot be read prints 'invalid<TAB>-', is reported \
                on stderr, and makes the exit status 1 once every line is done.
                """)
        @Option(help: "Log model artifact written by 'scorer train-logs'.") var model: String
        @Option(help: "Input format: raw, loghub or jsonl.") var format: LogLineFormat = .raw

        func run() throws {
            let classifier = try LogClassifier.load(path: model)
            var output = ""
            var invalid = 0
            var number = 0
            while var line = readLine(strippingNewline: true) {
                number += 1
                if line.hasSuffix("\r") { line.removeLast() }
                let parsed = line.withUTF8 { LabeledLogs.unlabeled($0, format: format) }
                switch parsed {
                case .success(let (message, level)):
                    let probability = classifier.probability(of: message, level: level)
                    output += classifier.isCritical(probability: probability) ? "critical\t" : "not_critical\t"
                    output += String(format: "%.6f\n", probability)
                case .failure(let error):
                    invalid += 1
                    output += "invalid\t-\n"
                    FileHandle.standardError.write(Data("stdin line \(number): \(error.message)\n".utf8))
                }
                if output.utf8.count >= 1 << 16 {
                    FileHandle.standardOutput.write(Data(output.utf8))
                    output.removeAll(keepingCapacity: true)
                }
            }
            FileHandle.standardOutput.write(Data(output.utf8))
            if invalid > 0 { throw ExitCode(1) }
        }
    }
}

extension LogLineFormat: ExpressibleByArgument {}
