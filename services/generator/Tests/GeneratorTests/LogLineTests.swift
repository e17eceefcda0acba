// Log lines: synthetic ones at the configured critical rate, mixed in at the configured
// share, and replayed from plain or Loghub-style files.
import Events
import Foundation
import Testing
@testable import Generator

@Suite struct LogLineTests {
    private func logConfiguration(
        mode: GeneratorMode = .logs, criticalRate: Double = 0.1, logShare: Double = 0.2
    ) -> EventStream.Configuration {
        var configuration = EventStream.Configuration()
        configuration.mode = mode
        configuration.criticalRate = criticalRate
        configuration.logShare = logShare
        configuration.runID = "logs"
        return configuration
    }

    @Test func syntheticLinesAreCriticalAtTheConfiguredRateFromEverySystem() throws {
        let lines = try events(20_000, logConfiguration(criticalRate: 0.1))
        #expect(lines.allSatisfy { $0.log != nil })
        let critical = lines.filter { $0.label == .criticalLog }.count
        #expect(abs(Double(critical) / 20_000 - 0.1) < 0.015, "\(critical) critical of 20000")
        let systems = Set(lines.compactMap { $0.log?.source.split(separator: "-").dropLast().joined(separator: "-") })
        #expect(systems == ["node", "db", "web", "bastion", "k8s-node", "kafka"])
        #expect(lines.allSatisfy { ($0.log?.message.utf8.count ?? 0) > 0 })
        #expect(try events(5000, logConfiguration(criticalRate: 0)).allSatisfy { $0.label == .routineLog })
    }

    @Test func mixedModeHoldsExactlyTheLogShareAndKeepsTheReadingsOfTheSameSeed() throws {
        let mixed = try events(10_000, logConfiguration(mode: .mixed, logShare: 0.2))
        #expect(mixed.filter { $0.log != nil }.count == 2000)
        // Readings come from their own random stream: adding log lines changes their clock, not their devices or truth.
        var readingsOnly = logConfiguration(mode: .readings)
        readingsOnly.fleet.anomalyRate = 0.05
        var mixedConfiguration = logConfiguration(mode: .mixed)
        mixedConfiguration.fleet.anomalyRate = 0.05
        let plain = try events(800, readingsOnly).compactMap(\.reading)
        let interleaved = try events(1000, mixedConfiguration).compactMap(\.reading)
        #expect(plain.map(\.deviceID) == interleaved.map(\.deviceID))
        #expect(plain.map(\.truth) == interleaved.map(\.truth))
    }

    @Test func aLoghubFileReplaysWithItsLabelsAndOnlyWhatIsALine() throws {
        let directory = temporaryPath("replay")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/BGL_sample.log"
        let long = String(repeating: "é", count: 5000)  // 10000 bytes: over the 8 KiB cap
        let text = [
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
            "KERNDTLB 1117869872 2005.06.04 R23-M0-NE-C:J05-U01 RAS KERNEL FATAL data TLB error interrupt",
            "",
            "-",
            "   APPREAD 1117869876 R04-M1-N4 RAS APP FATAL ciod: failed to read message prefix on control stream\r",
            "- \(long)",
        ].joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        let replay = try LogReplay(path: path, format: .loghub)
        let replayed = try events(100, logConfiguration(), replay: replay)
        #expect(replayed.count == 4, "the file holds four log lines; the stream ends after them")
        #expect(replayed.map(\.label) == [.routineLog, .criticalLog, .criticalLog, .routineLog])
        let logs = replayed.compactMap(\.log)
        #expect(logs.allSatisfy { $0.source == "BGL_sample" })
        #expect(
            logs[0].message
                == "1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected")
        #expect(
            logs[2].message
                == "1117869876 R04-M1-N4 RAS APP FATAL ciod: failed to read message prefix on control stream")
        #expect(logs[3].message.utf8.count <= LogEvent.maxMessageBytes && logs[3].message.utf8.count > 8000)
        #expect(logs[3].message.allSatisfy { $0 == "é" })
        #expect(replay.skippedLines == 1)
    }

    @Test func aRawFileReplaysUnlabelledAndLoopsWhenAsked() throws {
        let path = temporaryPath("app.log")
        try "first line\nsecond line\n\n".write(toFile: path, atomically: true, encoding: .utf8)
        let once = try events(10, logConfiguration(), replay: LogReplay(path: path, format: .raw, source: "app-1"))
        #expect(once.compactMap(\.log).map(\.message) == ["first line", "second line"])
        #expect(once.allSatisfy { $0.label == .unlabeledLog && $0.log?.source == "app-1" })

        let looped = try events(5, logConfiguration(), replay: LogReplay(path: path, format: .raw, loop: true))
        #expect(
            looped.compactMap(\.log).map(\.message) == [
                "first line", "second line", "first line", "second line", "first line",
            ])
    }
}
