// The alertron-devbroker executable as users and scripts meet it: a fixed bootstrap address,
// the standard topics visible to an outside client (kcat), a control API whose faults real
// clients feel, and a clean exit on SIGTERM.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing
import Kafka
import AlertronTesting

/// A running alertron-devbroker process, stopped with SIGTERM by `stop()`.
final class DevBrokerProcess: @unchecked Sendable {
    let process = Process()
    let bootstrap: String
    let controlPort: Int
    let bootstrapFile: URL

    init(arguments: [String] = []) throws {
        // The test executable sits in the same build folder as the package's executables.
        let binaryFolder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let binary = binaryFolder.appendingPathComponent("alertron-devbroker")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestError(
                "alertron-devbroker not found at \(binary.path): build it first (swift build --build-tests)")
        }
        controlPort = try freePort()
        bootstrapFile = FileManager.default.temporaryDirectory.appendingPathComponent("devbroker-\(UUID().uuidString)")
        process.executableURL = binary
        process.arguments =
            [
                "--listen", "127.0.0.1:0", "--control", "127.0.0.1:\(controlPort)",
                "--bootstrap-file", bootstrapFile.path, "--log-level", "warning",
            ] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The first stdout line is the bootstrap address, printed once clients can connect.
        var line = Data()
        while !line.contains(10) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw TestError("alertron-devbroker exited before printing its address") }
            line.append(chunk)
        }
        bootstrap = String(decoding: line.prefix { $0 != 10 }, as: UTF8.self)
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: bootstrapFile)
        return process.terminationStatus
    }

    /// POSTs to the control API and returns the status code and body.
    func control(_ path: String, json: String = "{}") async throws -> (Int, String) {
        try await waitForControlAPI()
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(controlPort)\(path)")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    private func waitForControlAPI() async throws {
        let url = URL(string: "http://127.0.0.1:\(controlPort)/healthz")!
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: url),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestError("control API did not come up")
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

let quietLogger: Logger = {
    var logger = Logger(label: "devbroker-tests")
    logger.logLevel = .critical
    return logger
}()

@Suite(.serialized, .ownThread, .timeLimit(.minutes(2))) struct DevBrokerProcessTests {
    @Test func kcatSeesTheStandardTopicsWithTheirPartitionsAtTheFixedAddress() throws {
        let broker = try DevBrokerProcess(arguments: ["--partitions", "6", "--topic", "extra:3"])
        defer { #expect(broker.stop() == 0, "SIGTERM should end the broker with status 0") }
        #expect(try String(contentsOf: broker.bootstrapFile, encoding: .utf8) == broker.bootstrap + "\n")

        let (status, listing) = try run("/usr/bin/kcat", ["-b", broker.bootstrap, "-L", "-m", "5"])
        #expect(status == 0)
        for topic in [
            "readings", "scored", "anomalies", "alertmanager", "readings.dlq", "scored.dlq", "anomalies.dlq",
            "alertmanager.dlq",
        ] {
            #expect(listing.contains("topic \"\(topic)\" with 6 partitions"), "kcat -L lacks \(topic):\n\(listing)")
        }
        #expect(listing.contains("topic \"extra\" with 3 partitions"))
    }

    @Test func aMessageProducedThroughTheFixedAddressIsReadBackByKcat() async throws {
        let broker = try DevBrokerProcess()
        defer { _ = broker.stop() }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(bootstrapServers: broker.bootstrap)),
            logger: quietLogger)
        let report = try await producer.send(topic: "readings", key: "edge-1", value: Array(#"{"hello":"kcat"}"#.utf8))
        await producer.shutdown()
        let (status, output) = try run(
            "/usr/bin/kcat",
            [
                "-b", broker.bootstrap, "-C", "-t", "readings", "-p", String(report.partition),
                "-o", String(report.offset), "-c", "1", "-e", "-f", "%k %s",
            ])
        #expect(status == 0)
        #expect(output == #"edge-1 {"hello":"kcat"}"#)
    }

    @Test func aBrokerTakenDownByTheControlAPIIsUnreachableUntilItComesBack() async throws {
        let broker = try DevBrokerProcess()
        defer { _ = broker.stop() }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(bootstrapServers: broker.bootstrap)),
            logger: quietLogger)
        _ = try await producer.metadata(timeout: .seconds(5))

        #expect(try await broker.control("/v1/brokers/1/down").0 == 200)
        await #expect(throws: KafkaError.self) { _ = try await producer.metadata(timeout: .seconds(1)) }

        #expect(try await broker.control("/v1/brokers/1/up").0 == 200)
        let back = try await producer.metadata(timeout: .seconds(10))
        #expect(back.topics["readings"] == 6)
        await producer.shutdown()
    }

    @Test func injectedProduceErrorsAreRetriedAndTheMessageStillArrivesOnce() async throws {
        let broker = try DevBrokerProcess()
        defer { _ = broker.stop() }
        // 7 = REQUEST_TIMED_OUT, retriable: the idempotent producer retries without duplicating.
        let (status, body) = try await broker.control(
            "/v1/request-errors", json: #"{"request":"produce","errors":[7,7,7]}"#)
        #expect(status == 200, "\(body)")
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(bootstrapServers: broker.bootstrap)),
            logger: quietLogger)
        let report = try await producer.send(topic: "anomalies", key: "edge-9", value: Array("survived".utf8))
        await producer.shutdown()
        let (kcatStatus, output) = try run(
            "/usr/bin/kcat",
            [
                "-b", broker.bootstrap, "-C", "-t", "anomalies", "-p", String(report.partition),
                "-o", "beginning", "-e", "-f", "%s\n",
            ])
        #expect(kcatStatus == 0)
        #expect(output == "survived\n", "expected exactly one copy, got: \(output)")
    }

    @Test func theControlAPIExplainsBadRequests() async throws {
        let broker = try DevBrokerProcess()
        defer { _ = broker.stop() }
        let (unknownStatus, unknownBody) = try await broker.control(
            "/v1/request-errors", json: #"{"request":"teleport","errors":[1]}"#)
        #expect(unknownStatus == 400)
        #expect(unknownBody.contains("unknown request 'teleport'"))
        #expect(unknownBody.contains("produce"))
        let (missingStatus, _) = try await broker.control("/v1/brokers/1/rtt")
        #expect(missingStatus == 400)
        let (created, _) = try await broker.control("/v1/topics", json: #"{"name":"made-later","partitions":2}"#)
        #expect(created == 200)
        let (_, listing) = try run("/usr/bin/kcat", ["-b", broker.bootstrap, "-L", "-t", "made-later"])
        #expect(listing.contains("with 2 partitions"))
    }
}
