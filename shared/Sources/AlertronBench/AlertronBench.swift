// alertron-bench: the shared package's benchmarks. Each prints figures next to a baseline
// measured in the same run, as ratios; BENCHMARKS.md records results and method.
import ArgumentParser
import Foundation

@main
struct AlertronBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alertron-bench",
        abstract: "Benchmarks of the shared package (build with -c release).",
        subcommands: [
            EventsCommand.self, KafkaCommand.self, ScoringCommand.self, QualityCommand.self, LogsCommand.self,
        ])

    struct EventsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "events", abstract: "Event decode+encode vs Foundation's JSONDecoder/JSONEncoder, one core.")
        @Option(help: "Events per measurement.") var count = 200_000
        func run() { printResults(runEventsBenchmark(count: count)) }
    }

    struct KafkaCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kafka", abstract: "Kafka module vs kcat (librdkafka's own client) on one development broker.")
        @Option(help: "Messages per measurement.") var count = 1_000_000
        @Option(help: "Bytes per message value.") var size = 200
        @Option(help: "Producer batches of 1000 awaiting acknowledgement at once.") var inFlight = 96
        @Option(help: "queue.buffering.max.messages, the same for kcat and the module.") var queueMessages = 100_000
        @Option(help: "Alternating rounds; medians are reported.") var rounds = 5
        func run() async throws {
            printResults(
                try await runKafkaBenchmark(
                    KafkaBenchmarkSettings(
                        count: count, size: size, inFlight: inFlight, queueMessages: queueMessages, rounds: rounds)))
        }
    }
}

extension AlertronBench {
    struct ScoringCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "iforest", abstract: "Isolation Forest scoring kernel, one core: batched vs a naive walk.")
        @Option(help: "Rows to score.") var rows = 200_000
        func run() { printResults(runScoringBenchmark(rows: rows)) }
    }

    struct QualityCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "iforest-quality",
            abstract:
                """
                Isolation Forest AUC on the ODDS datasets vs the paper and scikit-learn (skips when the data is \
                absent).
                """
        )
        @Option(help: "Folder holding iforest-reference-auc and odds-*.") var datasets = "../shared/datasets"
        @Option(help: "Seeds per dataset (0..<seeds).") var seeds = 5
        func run() throws { printResults(try runQualityBenchmark(datasetsPath: datasets, seeds: seeds)) }
    }
}

extension AlertronBench {
    struct LogsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logs",
            abstract: "Log severity classification, one core: the classifier vs a String baseline and a bare rule.")
        @Option(help: "The labeled corpus to train on (JSONL).") var corpus = "services/scorer/data/log-corpus.jsonl"
        @Option(help: "Folder holding loghub-bgl-2k (its lines join the benchmark's when present).") var datasets =
            "../shared/datasets"
        @Option(help: "Lines per measurement.") var count = 200_000
        func run() throws {
            printResults(try runLogsBenchmark(corpusPath: corpus, datasetsPath: datasets, count: count))
        }
    }
}

func printResults(_ results: [BenchResult]) {
    for result in results {
        let rate = String(format: "%12.0f", result.perSecond)
        print("\(result.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(rate) /s  \(result.note)")
    }
}
