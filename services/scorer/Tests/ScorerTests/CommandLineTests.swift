// `scorer train`, `score`, `train-logs` and `classify` as a user runs them: the built binary on small files.
import Foundation
import Models
import Testing

@Suite(.ownThread) struct CommandLineTests {
    private func scorer(
        _ arguments: [String], stdin: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("scorer")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        if stdin != nil { process.standardInput = input }
        try process.run()
        if let stdin {
            // Written from another thread: a large input would otherwise fill the pipe while we wait on stdout.
            let writer = Thread {
                input.fileHandleForWriting.write(Data(stdin.utf8))
                try? input.fileHandleForWriting.close()
            }
            writer.start()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }

    private func csv(_ text: String) throws -> String {
        let path = temporaryPath("data.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private var trainingCSV: String {
        var lines = ["a,b,label"]
        for index in 0..<400 { lines.append("\(Double(index % 20) / 10),\(Double(index % 13) / 10),0") }
        lines.append("40,40,1")
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func trainThenScorePrintsOneScorePerRowInOrderAndTheOutlierScoresHighest() throws {
        let model = temporaryPath("model.json")
        let train = try scorer([
            "train", "--csv", try csv(trainingCSV), "--out", model, "--label-column", "label", "--seed", "3",
        ])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("training AUC"))

        let score = try scorer(["score", "--model", model, "--csv", try csv("a,b\n0.5,0.5\n40,40\n1.0,0.2\n")])
        #expect(score.status == 0, "\(score.stderr)")
        let lines = score.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "score,anomaly,severity,episode,detector,channel,sigmas")
        // Three rows are all warm-up: the model's own scores.
        let scores = lines.dropFirst().compactMap { $0.split(separator: ",").first.flatMap { Double($0) } }
        #expect(scores.count == 3)
        #expect(scores[1] > scores[0] && scores[1] > scores[2])
        #expect(scores.allSatisfy { (0...1).contains($0) })
    }

    @Test func aProfilesModelIsWrittenWhereTheServiceLooksForIt() throws {
        let directory = temporaryPath("profiles")
        let pumpCSV = try csv(
            "flow,current,note\n"
                + (0..<300).map { "\(30 + Double($0 % 9) / 10),\(1.3 + Double($0 % 5) / 100),x" }
                .joined(separator: "\n") + "\n")
        let train = try scorer([
            "train", "--profile", "pump", "--csv", pumpCSV, "--features", "flow,current", "--models-dir", directory,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("(profile pump)"))
        let model = try IsolationForest.load(path: directory + "/pump.json")
        #expect(model.featureNames == ["flow", "current"])

        // Features a reading's channel cannot be named after are refused for a profile.
        let refused = try scorer([
            "train", "--profile", "pump", "--csv", try csv("Flow Rate,current\n1,2\n2,3\n3,4\n"), "--models-dir",
            directory,
        ])
        #expect(refused.status != 0 && refused.stderr.contains("Flow Rate"))
        let noDestination = try scorer(["train", "--csv", pumpCSV])
        #expect(noDestination.status != 0 && noDestination.stderr.contains("--out"))
    }

    @Test func scoreJudgesTheRowsAsOneDevicesStreamWithEpisodesAndTheirReason() throws {
        let model = temporaryPath("model.json")
        #expect(
            try scorer(["train", "--csv", try csv(trainingCSV), "--out", model, "--label-column", "label"]).status == 0)
        var random = RandomSource(seed: 9)
        var rows = ["a,b"]
        for index in 0..<460 {
            // b sits four of its standard deviations high for rows 431-440 (1-based): caught within four.
            let shifted = (430..<440).contains(index)
            let a = 1 + 0.1 * random.nextGaussian()
            let b = 0.6 + 0.05 * random.nextGaussian() + (shifted ? 0.2 : 0)
            rows.append(String(format: "%.4f,%.4f", a, b))
        }
        let score = try scorer(["score", "--model", model, "--csv", try csv(rows.joined(separator: "\n") + "\n")])
        #expect(score.status == 0, "\(score.stderr)")
        let lines = score.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let flagged = lines.indices.filter { lines[$0].count == 7 && lines[$0][1] == "1" && $0 >= 400 }
        #expect(flagged.first.map { (430...433).contains($0) } == true, "flagged rows \(flagged)")
        #expect(flagged.allSatisfy { (430..<443).contains($0) }, "\(flagged)")
        let first = try #require(flagged.first)
        #expect(lines[first][3] == "csv/row\(first + 1)", "the episode is named after the row that opened it")
        #expect(flagged.allSatisfy { lines[$0][3] == "csv/row\(first + 1)" }, "one episode")
        #expect(lines[first][5] == "b")
        #expect(["shift", "spike"].contains(lines[first][4]))
    }

    @Test func aBadRowIsReportedWithItsLineNumber() throws {
        let model = temporaryPath("model.json")
        #expect(
            try scorer(["train", "--csv", try csv(trainingCSV), "--out", model, "--label-column", "label"]).status == 0)
        let score = try scorer(["score", "--model", model, "--csv", try csv("a,b\n0.5,0.5\n0.1,oops\n")])
        #expect(score.status != 0)
        #expect(score.stderr.contains("line 3"), "\(score.stderr)")
        #expect(score.stderr.contains("oops"))
    }

    @Test func theDefaultSensorModelTrainsWithoutData() throws {
        let model = temporaryPath("sensor.json")
        let train = try scorer(["train", "--synthetic", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("temperature,pressure,vibration"))
        #expect(FileManager.default.fileExists(atPath: model))
    }

    @Test func aCorruptModelIsRejectedWithAClearMessage() throws {
        let model = temporaryPath("corrupt.json")
        try #"{"format_version": 99}"#.write(toFile: model, atomically: true, encoding: .utf8)
        let score = try scorer(["score", "--model", model, "--csv", try csv("a,b\n1,2\n")])
        #expect(score.status != 0)
        #expect(score.stderr.contains("format_version") || score.stderr.contains("format version"), "\(score.stderr)")
    }

    private func file(_ text: String, _ name: String) throws -> String {
        let path = temporaryPath(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func trainLogsThenClassifyPrintsALabelAndProbabilityPerLine() throws {
        let jsonl = labeledLogs(count: 240, seed: 1).map { line in
            #"{"message": "\#(line.message)", "label": "\#(line.critical ? "critical" : "not_critical")"}"#
        }.joined(separator: "\n")
        let model = temporaryPath("log-model.json")
        let train = try scorer(["train-logs", "--input", try file(jsonl, "logs.jsonl"), "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("240 lines (80 critical)"), "\(train.stdout)")

        let unseen = labeledLogs(count: 30, seed: 5)
        let classify = try scorer(
            ["classify", "--model", model], stdin: unseen.map(\.message).joined(separator: "\n") + "\n")
        #expect(classify.status == 0, "\(classify.stderr)")
        let rows = classify.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.count == 30)
        #expect(zip(rows, unseen).allSatisfy { $0[0] == ($1.critical ? "critical" : "not_critical") })
        #expect(rows.allSatisfy { Double($0[1]).map { (0...1).contains($0) } == true })
        // Each line's reason and template; 30 lines are the source's warm-up: the classifier alone.
        #expect(rows.allSatisfy { $0.count == 5 && ["classifier", "-"].contains($0[2]) && $0[3].count == 12 })
    }

    @Test func loghubLinesTrainAndClassifyWithTheLabelTokenIgnored() throws {
        let loghub = labeledLogs(count: 120, seed: 2).map { ($0.critical ? "KERNMNTF " : "- ") + $0.message }
        let model = temporaryPath("log-model.json")
        let train = try scorer([
            "train-logs", "--input", try file(loghub.joined(separator: "\r\n"), "logs.log"), "--out", model,
            "--format", "loghub",
        ])
        #expect(train.status == 0, "\(train.stderr)")
        // The label token is skipped: a critical line with a "-" label is still critical.
        let lines = "- md2: Disk failure on sdb5, disabling device\r\nAPPSEV session opened for user u9 by (uid=0)\r\n"
        let classify = try scorer(["classify", "--model", model, "--format", "loghub"], stdin: lines)
        #expect(
            classify.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["critical", "not_critical"])
    }

    @Test func aFalseAlarmAnsweredOnceQuietsItsTemplateAndOnlyThat() throws {
        let model = temporaryPath("log-model.json")
        try logModel.write(to: model)
        // The disk lines are labelled routine (a false alarm to the model), the OOM lines critical.
        let lines =
            (0..<4).flatMap { n in
                [
                    "- md\(n): Disk failure on sdb\(n), disabling device",
                    "KERNOOM Out of memory: Killed process \(n * 7) (java) total-vm:\(n * 9)kB",
                ]
            }.joined(separator: "\n") + "\n"
        func labels(_ run: (status: Int32, stdout: String, stderr: String)) -> [String] {
            run.stdout.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
        }
        let plain = try scorer(["classify", "--model", model, "--format", "loghub"], stdin: lines)
        #expect(labels(plain) == Array(repeating: "critical", count: 8))
        let answered = try scorer(
            ["classify", "--model", model, "--format", "loghub", "--dismiss-false-alarms"], stdin: lines)
        #expect(
            labels(answered) == ["critical", "critical"]
                + Array(repeating: ["not_critical", "critical"], count: 3).flatMap { $0 })
        #expect(answered.stderr.contains("1 false alarms answered with not an anomaly"), "\(answered.stderr)")
        let raw = try scorer(["classify", "--model", model, "--dismiss-false-alarms"], stdin: lines)
        #expect(raw.status != 0 && raw.stderr.contains("needs labelled lines"), "\(raw.stderr)")
    }

    @Test func badTrainingLinesAreReportedByLineNumberAndNoModelIsWritten() throws {
        let text = #"{"message": "ok", "label": "critical"}"# + "\n" + #"{"message": "x", "label": "urgent"}"# + "\n"
        let model = temporaryPath("log-model.json")
        let train = try scorer(["train-logs", "--input", try file(text, "bad.jsonl"), "--out", model])
        #expect(train.status != 0)
        #expect(train.stderr.contains("bad.jsonl line 2: label is 'urgent'"), "\(train.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model))
    }

    @Test func unreadableClassifyLinesAreMarkedAndFailTheRunAtTheEnd() throws {
        let model = temporaryPath("log-model.json")
        try logModel.write(to: model)
        let classify = try scorer(
            ["classify", "--model", model, "--format", "jsonl"],
            stdin: #"{"message": "md0: Disk failure on sdb1, disabling device"}"# + "\nnot json\n")
        #expect(classify.status == 1)
        #expect(classify.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["critical", "invalid"])
        #expect(classify.stderr.contains("stdin line 2: not valid JSON"), "\(classify.stderr)")
    }
}
