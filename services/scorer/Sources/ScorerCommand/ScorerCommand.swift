// `scorer`: the scoring service (`serve`, the default) and the model's command line
// (`train`, `score`) and the log model's (`train-logs`, `classify`), one binary so that what
// is trained is exactly what is served.
import ArgumentParser
import Events
import Foundation
import Models
import Scorer
import Telemetry

@main
struct ScorerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorer",
        abstract:
            """
            Scores readings with an Isolation Forest and log lines with a severity classifier; produces scored \
            and anomalies.
            """,
        subcommands: [Serve.self, Train.self, Score.self, TrainLogs.self, Classify.self],
        defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let service = ServiceSettings.service("scorer", port: 8081)
        static let configuration = CommandConfiguration(
            abstract: "Consume readings, score them, produce scored and anomalies (the default).",
            discussion: SettingsArguments.discussion(service, ScorerSettings()))
        @OptionGroup var arguments: SettingsArguments

        func run() async throws {
            let (service, settings) = try arguments.resolve(Self.service, ScorerSettings(), command: Self.self)
            let runtime = ServiceRuntime.bootstrap(service, metrics: ScorerMetrics.catalog)
            try await buildApplication(runtime: runtime, settings: settings).application.runService()
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train an Isolation Forest from a CSV file (or the default sensor model) and write its artifact.")
        @Option(help: "CSV with a header line.") var csv: String?
        @Flag(help: "Train the default sensor model (temperature, pressure, vibration) on synthetic normal readings.")
        var synthetic = false
        @Option(
            help: "Where to write the model artifact (JSON); with --profile, <models-dir>/<profile>.json by default.")
        var out: String?
        @Option(
            help: """
                The device profile (device type) the model is for: its features are channels of that \
                profile's readings, and the service serves it from --models-dir.
                """)
        var profile: String?
        @Option(name: .customLong("models-dir"), help: "Where the service finds the profiles' models.")
        var modelsDirectory = ScorerSettings().modelsDirectory
        @Option(help: "Feature columns, comma-separated (default: every column but the label).") var features: String?
        @Option(
            name: .customLong("label-column"),
            help: "Column of 0/1 labels: excluded from features, used only to report AUC.")
        var labelColumn: String?
        @Option(help: "Number of trees.") var trees = 100
        @Option(help: "Subsample size per tree (psi).") var subsample = 256
        @Option(help: "Random seed; the same seed and data give the same model.") var seed: UInt64 = 1
        @Option(help: "Expected fraction of anomalies; sets the threshold.") var contamination = 0.01
        @Option(help: "Explicit score threshold instead of one from --contamination.") var threshold: Double?
        @Flag(help: "Standardise features (the scaler is stored in the artifact).") var standardize = false

        func validate() throws {
            if csv == nil && !synthetic { throw ValidationError("give --csv FILE or --synthetic") }
            if csv != nil && synthetic { throw ValidationError("--csv and --synthetic exclude each other") }
            if let profile {
                guard Reading.isValidName(profile.utf8) else {
                    throw ValidationError("--profile must be 1 to 64 characters of a-z, 0-9, _ and .")
                }
                if profile == Reading.defaultProfile && out == nil {
                    throw ValidationError("the default profile's model is the service's --model: give --out")
                }
            } else if out == nil {
                throw ValidationError("give --out FILE (or --profile NAME to write <models-dir>/NAME.json)")
            }
        }

        /// Where the artifact goes.
        var destination: String { out ?? "\(modelsDirectory)/\(profile ?? Reading.defaultProfile).json" }

        func run() throws {
            let parameters = IsolationForest.Parameters(
                trees: trees, subsample: subsample, seed: seed, contamination: contamination,
                explicitThreshold: threshold, standardize: standardize)
            let model: IsolationForest
            if let csv {
                let table = try CSVTable.read(path: csv, features: features.map(Self.names), labelColumn: labelColumn)
                model = try IsolationForest.train(
                    table.data, featureNames: table.featureNames, parameters: parameters, labels: table.labels)
            } else {
                model = try IsolationForest.train(
                    SensorProfile.normalReadings(count: 20_000, seed: seed),
                    featureNames: SensorProfile.featureNames, parameters: parameters)
            }
            // The service serves a profile's model only if its features can name channels (a CSV for
            // `scorer score` may have any column names).
            if profile != nil, let mismatch = model.channelMismatch { throw ValidationError(mismatch.description) }
            let out = destination
            if profile != nil {
                try FileManager.default.createDirectory(
                    atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            }
            try model.write(to: out)
            var summary =
                "wrote \(out)\(profile.map { " (profile \($0))" } ?? ""): \(model.version), \(model.trainingRows) rows, "
                + "features \(model.featureNames.joined(separator: ",")), "
            summary += String(
                format: "threshold %.4f, warning from %.4f, critical from %.4f", model.threshold,
                model.warningCutPoint, model.criticalCutPoint)
            if let auc = model.trainingAUC { summary += String(format: ", training AUC %.4f", auc) }
            print(summary)
        }

        static func names(_ list: String) -> [String] {
            list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Judge the rows of a CSV file as one device's readings, in order, exactly as the service would.",
            discussion: """
                The first --warm-up rows teach the device its own normal (the model judges them meanwhile); \
                every later row is judged against it, in episodes. Prints a header and one line per row: \
                score,anomaly,severity,episode,detector,channel,sigmas (episode: the row that opened it; \
                detector, channel and sigmas: the top of the explanation, empty for a normal row).
                """)
        @Option(help: "Model artifact written by 'scorer train' (its features are the CSV's columns to judge).")
        var model: String
        @Option(help: "CSV with a header line containing the model's feature columns.") var csv: String
        @Option(
            help:
                "Seconds between two rows: the device's reading interval, which turns the per-day noise budget into a per-row one."
        )
        var interval = 60.0
        @Option(name: .customLong("warm-up"), help: "Rows the device learns its normal from.")
        var warmUp = ScorerSettings().detection.warmUp
        @Option(name: .customLong("close-after"), help: "Normal rows in a row that close an episode.")
        var closeAfter = ScorerSettings().detection.closeAfter
        @Option(
            name: .customLong("false-episodes-per-device-day"),
            help: "The noise budget: false episodes a fault-free device may open per day.")
        var budget = ScorerSettings().detection.falseEpisodesPerDeviceDay
        @Option(name: .customLong("range-tolerance"), help: "The range rule's tolerance, as the service's.")
        var rangeTolerance = ScorerSettings().rangeTolerance

        func validate() throws {
            guard interval > 0 else { throw ValidationError("--interval must be positive") }
            guard warmUp >= 30 else { throw ValidationError("--warm-up must be at least 30") }
            guard closeAfter >= 1 else { throw ValidationError("--close-after must be at least 1") }
            guard budget > 0 else { throw ValidationError("--false-episodes-per-device-day must be positive") }
        }

        func run() throws {
            let forest = try IsolationForest.load(path: model)
            let table = try CSVTable.read(path: csv, features: forest.featureNames, labelColumn: nil)
            var scores: [Double] = []
            forest.score(table.data, into: &scores)
            let bounds = forest.trainingBounds(tolerance: rangeTolerance)
            var detection = ScorerSettings().detection
            (detection.warmUp, detection.closeAfter, detection.falseEpisodesPerDeviceDay) = (warmUp, closeAfter, budget)
            detection.defaultInterval = interval
            let judge = DeviceJudge(detection: detection)
            var memory = DeviceJudge.Memory(columns: forest.featureNames)
            var output = "score,anomaly,severity,episode,detector,channel,sigmas\n"
            output.reserveCapacity(table.data.rows * 48)
            for index in 0..<table.data.rows {
                let row = Array(table.data.values[index * table.data.columns..<(index + 1) * table.data.columns])
                let outOfRange = bounds.map { bounds in zip(row, bounds).contains { !$1.contains($0) } } ?? false
                let judgement = judge.judge(
                    row, readingID: "row\(index + 1)", deviceID: "csv", time: Double(index) * interval,
                    fleet: .init(score: scores[index], outOfRange: outOfRange), model: forest, memory: &memory)
                let top = judgement.explanation?.channels.first
                output += "\(judgement.score),\(judgement.anomaly ? 1 : 0),\(judgement.severity.rawValue),"
                output += "\(judgement.episode?.id ?? ""),\(judgement.explanation?.detector ?? ""),\(top?.name ?? ""),"
                output += top.map { String(format: "%.2f", $0.sigmas) } ?? ""
                output += "\n"
            }
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }
}
