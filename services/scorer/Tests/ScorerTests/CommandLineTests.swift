// `scorer train` and `scorer score` as a user runs them: the built binary on small CSV files.
import Foundation
import Testing

@Suite struct CommandLineTests {
    private func scorer(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("scorer")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
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
        let train = try scorer(["train", "--csv", try csv(trainingCSV), "--out", model, "--label-column", "label", "--seed", "3"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("training AUC"))

        let score = try scorer(["score", "--model", model, "--csv", try csv("a,b\n0.5,0.5\n40,40\n1.0,0.2\n")])
        #expect(score.status == 0, "\(score.stderr)")
        let lines = score.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "score")
        let scores = lines.dropFirst().compactMap(Double.init)
        #expect(scores.count == 3)
        #expect(scores[1] > scores[0] && scores[1] > scores[2])
        #expect(scores.allSatisfy { (0...1).contains($0) })
    }

    @Test func aBadRowIsReportedWithItsLineNumber() throws {
        let model = temporaryPath("model.json")
        #expect(try scorer(["train", "--csv", try csv(trainingCSV), "--out", model, "--label-column", "label"]).status == 0)
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
}
