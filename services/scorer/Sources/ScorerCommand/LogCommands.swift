// `scorer train-logs` and `scorer classify`: the log severity model's command line, in the
// binary that serves it, so what is trained is exactly what is served.
import ArgumentParser
import Events
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
            abstract: "Judge log lines from stdin, in order, as the service does.",
            discussion: """
                Prints 'label<TAB>probability<TAB>reason<TAB>template<TAB>explanation' per line: label critical \
                or not_critical; the classifier's probability; reason classifier, new_template, burst or -; the \
                template id (12 hex digits); why, when critical. The lines are one source's, said \
                --seconds-per-line apart (or at the time --time-token names): their templates are mined as the \
                service mines them. Off unless asked for, as in the service: a template the source has never said \
                is news after --warm-up-lines lines (with at least --novelty-probability), and a template said \
                --burst-factor times more often than usual is one burst.
                raw: the whole line is the message. loghub: the first token (the label) is skipped. jsonl: the \
                'message' and 'level' fields are read. A line that cannot be read prints 'invalid<TAB>-', is reported \
                on stderr, and makes the exit status 1 once every line is done.
                """)
        @Option(help: "Log model artifact written by 'scorer train-logs'.") var model: String
        @Option(help: "Input format: raw, loghub or jsonl.") var format: LogLineFormat = .raw
        @Option(help: "The source the lines come from (templates are per source).") var source = "stdin"
        @Option(help: "Lines of the source before a template it has never said is news.")
        var warmUpLines = LogJudge.Settings().warmUpLines
        @Option(help: "Probability of critical from which a new template is critical.")
        var noveltyProbability = LogJudge.Settings().noveltyProbability
        @Option(help: "A template said this many times its usual count in a minute is a burst; 0: off.")
        var burstFactor = LogJudge.Settings().templates.burstFactor
        @Option(help: "Seconds between lines, for templates' rates (unless --time-token says where the time is).")
        var secondsPerLine = 1.0
        @Option(
            help: """
                Which whitespace-separated token of the message (1 is the first) is its time in Unix seconds, \
                as in Loghub's BGL and Thunderbird lines; 0: lines are --seconds-per-line apart.
                """)
        var timeToken = 0
        @Option(
            help: """
                Which whitespace-separated token of the line (1 is the first) starts the message itself, as a \
                log shipper would send it without its host and time header (Loghub's BGL: 9, Thunderbird: 8); \
                0: the whole line.
                """)
        var contentToken = 0
        @Option(
            help: """
                Which whitespace-separated token of the line (1 is the first) is its level (INFO, FATAL, ...), \
                passed to the classifier as the event's level field, as a log shipper would send it (Loghub's \
                BGL: 8); 0: none (jsonl lines carry their own 'level').
                """)
        var levelToken = 0
        @Flag(
            help: """
                Play an on-call person who answers each false alarm: a line judged critical that its label \
                (loghub, or jsonl with 'label') calls routine gets "not an anomaly" on its template, as the Slack \
                button does in the service. The clicks are counted on stderr.
                """)
        var dismissFalseAlarms = false

        func validate() throws {
            if dismissFalseAlarms && format == .raw {
                throw ValidationError("--dismiss-false-alarms needs labelled lines: --format loghub or jsonl")
            }
        }

        func run() throws {
            let classifier = try LogClassifier.load(path: model)
            var settings = LogJudge.Settings()
            settings.warmUpLines = warmUpLines
            settings.noveltyProbability = noveltyProbability
            settings.templates.burstFactor = burstFactor
            var judge = LogJudge(settings: settings)
            var output = ""
            var invalid = 0
            var number = 0
            var clicks = 0
            while var line = readLine(strippingNewline: true) {
                number += 1
                if line.hasSuffix("\r") { line.removeLast() }
                let parsed = line.withUTF8 { bytes in
                    dismissFalseAlarms
                        ? LabeledLogs.labeled(bytes, format: format).map { ($0.message, $0.level, $0.critical) }
                        : LabeledLogs.unlabeled(bytes, format: format).map { ($0.message, $0.level, nil) }
                }
                switch parsed {
                case .success(let (line, level, truth)):
                    var time = Double(number) * secondsPerLine
                    if timeToken > 0,
                        let token = line.split(separator: " ", maxSplits: timeToken).dropFirst(timeToken - 1).first,
                        let seconds = Double(token)
                    {
                        time = seconds
                    }
                    var level = level
                    if levelToken > 0,
                        let token = line.split(separator: " ", maxSplits: levelToken).dropFirst(levelToken - 1).first
                    {
                        level = String(token)
                    }
                    var message = line
                    if contentToken > 1 {
                        let pieces = line.split(separator: " ", maxSplits: contentToken - 1)
                        message = pieces.count == contentToken ? String(pieces[contentToken - 1]) : ""
                    }
                    let verdict = judge.judge(
                        message, level: level, source: source, time: time, classifier: classifier)
                    output += verdict.critical ? "critical\t" : "not_critical\t"
                    output += String(format: "%.6f\t", verdict.probability)
                    output += "\(verdict.reason?.rawValue ?? "-")\t\(verdict.template.id)\t"
                    output += (verdict.explanation ?? "-").replacingOccurrences(of: "\t", with: " ") + "\n"
                    if verdict.critical, truth == false {
                        clicks += 1
                        _ = judge.miner.markRoutine(
                            source: source, templates: [verdict.template.id],
                            label: .init(by: "on-call", at: Timestamp.now()))
                    }
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
            if dismissFalseAlarms {
                FileHandle.standardError.write(Data("\(clicks) false alarms answered with not an anomaly\n".utf8))
            }
            if invalid > 0 { throw ExitCode(1) }
        }
    }
}

extension LogLineFormat: ExpressibleByArgument {}
