// `generator` as a user runs it: the built binary, against an in-process development broker
// (it listens on TCP, so a child process reaches it like any client).
import AlertronTesting
import Events
import Foundation
import Glibc
import Testing
@testable import Generator

@Suite(.serialized, .ownThread, .timeLimit(.minutes(2))) struct CommandLineTests {
    private static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()
        .appendingPathComponent("generator")

    private func launch(_ arguments: [String]) throws -> (process: Process, stdout: Pipe, stderr: Pipe) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "warning"
        process.environment = environment
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let (process, out, err) = try launch(arguments)
        // Read both pipes before waiting, so a chatty child cannot fill one and block.
        let stderr = Mutexed(Data())
        let stderrRead = DispatchSemaphore(value: 0)
        // A thread, not a global queue: on Linux those share their threads with Swift's tasks.
        Thread {
            stderr.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }
            stderrRead.signal()
        }.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        stderrRead.wait()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self),
            String(decoding: stderr.withLock { $0 }, as: UTF8.self)
        )
    }

    @Test func helpListsEverySettingWithItsEnvironmentVariable() throws {
        let help = try run(["generate", "--help"]).stdout
        for name in [
            "GENERATOR_RATE", "GENERATOR_COUNT", "GENERATOR_DEVICES", "GENERATOR_ANOMALY_RATE", "GENERATOR_SEED",
            "GENERATOR_MODE",
            "GENERATOR_TARGET", "INGEST_URL", "INGEST_TOKEN", "GENERATOR_CRITICAL_RATE", "GENERATOR_REPLAY",
            "KAFKA_BROKERS", "PORT",
        ] {
            #expect(help.contains(name), "\(name) missing from --help")
        }
    }

    @Test func badSettingsAreRefusedNamingTheSetting() throws {
        let result = try run(["--anomaly-rate", "1.5", "--port", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--anomaly-rate"), "\(result.stderr)")
    }

    @Test func aCountedRunExitsZeroAfterEverythingWasAcknowledgedAndPrintsASummary() throws {
        let mesh = try TestMesh()
        let result = try run([
            "--count", "3000", "--rate", "0", "--port", "0", "--kafka-brokers", mesh.cluster.bootstrapServers,
            "--seed", "3", "--mode", "mixed",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("sent 3000 events to kafka topic readings"), "\(result.stdout)")
        #expect(result.stdout.contains("undelivered: 0"))
    }

    @Test func runningItServesMetricsWithHelpAndSIGTERMStopsItCleanly() async throws {
        let mesh = try TestMesh()
        let port = try freePort()
        let (process, out, _) = try launch([
            "--rate", "500", "--port", "\(port)", "--host", "127.0.0.1",
            "--kafka-brokers", mesh.cluster.bootstrapServers,
        ])
        defer { if process.isRunning { process.terminate() } }
        let metrics = Mutexed("")
        try await eventually(30, "events counted on /metrics") {
            guard let text = try? String(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!, encoding: .utf8)
            else { return false }
            metrics.withLock { $0 = text }
            return text.contains(#"alertron_generator_events_total{kind="reading",anomaly="none"}"#)
        }
        let text = metrics.withLock { $0 }
        for name in [
            "alertron_generator_events_total", "alertron_generator_events_per_second",
            "alertron_generator_target_events_per_second",
            "alertron_generator_delivery_seconds", "alertron_generator_undelivered_events_total",
        ] {
            #expect(text.contains("# HELP \(name) "), "\(name) has no help")
            #expect(!text.contains("# HELP \(name) \(name)\n"), "\(name) has only its name as help")
        }
        let ready = try String(contentsOf: URL(string: "http://127.0.0.1:\(port)/readyz")!, encoding: .utf8)
        #expect(ready.contains(#""status":"ready""#))

        process.terminate()  // SIGTERM
        try await eventually(20, "the process to exit") { !process.isRunning }
        #expect(process.terminationStatus == 0)
        #expect(out.fileHandleForReading.readDataToEndOfFile().isEmpty, "a run without --count prints no summary")
    }

    @Test func evaluateReadsAScoredFileAndPrintsPrecisionAndRecall() throws {
        let path = temporaryPath("scored.jsonl")
        let readings = [(true, true), (true, false), (false, false), (false, true), (false, false)].enumerated().map {
            index, pair in
            ScoredEvent(
                event: .reading(
                    Reading(
                        id: "r\(index)", ts: "2026-01-01T00:00:00.000Z", deviceID: "edge-1", temperature: 22,
                        pressure: 1010, vibration: 0.02,
                        truth: GroundTruth(anomaly: pair.0, kind: pair.0 ? "shift" : nil))),
                score: 0.5, anomaly: pair.1, severity: pair.1 ? .warning : .none, model: "isolation_forest@x",
                scoredAt: "2026-01-01T00:00:01.000Z")
        }
        try readings.map { String(decoding: EventWriter.encode($0), as: UTF8.self) }.joined(separator: "\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        let result = try run(["evaluate", "--file", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("precision 0.5000  recall 0.5000  F1 0.5000"), "\(result.stdout)")
        #expect(result.stdout.contains("shift"))
    }
}
