// Shared pieces of the scorer's tests: trained sensor and log models on disk, a development
// broker, the running service, and readers for its output topics.
import Events
import Foundation
import Hummingbird
import Kafka
import CoreMetrics
import Logging
import Models
import ServiceLifecycle
import Telemetry
import Testing
@_exported import AlertronTesting
@testable import Scorer

let quietLogger = testLogger("scorer-tests")

/// A sensor model trained once for all tests (small, so training is quick).
let sensorModel: IsolationForest = {
    var parameters = IsolationForest.Parameters()
    parameters.trees = 50
    return try! IsolationForest.train(
        SensorProfile.normalReadings(count: 4000, seed: 7),
        featureNames: SensorProfile.featureNames, parameters: parameters)
}()

/// Log lines of a few templates with varying values; a third of them critical.
func labeledLogs(count: Int, seed: Int) -> [LabeledLog] {
    (0..<count).map { index in
        let n = index * 37 + seed * 1_000
        switch index % 6 {
        case 0: return LabeledLog(message: "md\(n % 4): Disk failure on sdb\(n % 8), disabling device", critical: true)
        case 1:
            return LabeledLog(message: "Out of memory: Killed process \(n) (java) total-vm:\(n * 3)kB", critical: true)
        case 2: return LabeledLog(message: "session opened for user u\(n) by (uid=0)", critical: false)
        case 3: return LabeledLog(message: "GET /api/v1/items/\(n) 200 \(n % 90)ms", critical: false)
        case 4: return LabeledLog(message: "checkpoint complete: wrote \(n) buffers", critical: false)
        default:
            return LabeledLog(message: "backup of /srv/db\(n % 3) completed in \(n % 50)s, 0 errors", critical: false)
        }
    }
}

/// A log model trained once for all tests.
let logModel: LogClassifier = {
    var parameters = LogClassifier.Parameters()
    parameters.hashBits = 16
    return try! LogClassifier.train(labeledLogs(count: 300, seed: 1), parameters: parameters)
}()

/// `logModel` on disk, written once; services that do not replace it share the file.
let logModelPath: String = {
    let path = temporaryPath("log-model.json")
    try! logModel.write(to: path)
    return path
}()

func logEvent(_ source: String, _ message: String, level: String? = nil) -> Events.LogEvent {
    Events.LogEvent(id: EventID.generate(), ts: Timestamp.now(), source: source, message: message, level: level)
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("scorer-\(UUID().uuidString)-\(name)").path
}

func writeModel(_ model: IsolationForest = sensorModel) throws -> String {
    let path = temporaryPath("model.json")
    try model.write(to: path)
    return path
}

func reading(_ device: String, temperature: Double = 22, pressure: Double = 1013, vibration: Double = 0.02) -> Reading {
    Reading(
        id: EventID.generate(), ts: Timestamp.now(), deviceID: device, temperature: temperature, pressure: pressure,
        vibration: vibration)
}

extension TestMesh {
    /// A development broker with the scorer's topics, and a producer to feed it.
    convenience init() throws {
        try self.init(
            topics: [
                Topic.readings, Topic.scored, Topic.anomalies, Topic.deadLetters(of: Topic.readings), Topic.scorerState,
                Topic.feedback, Topic.deadLetters(of: Topic.feedback),
            ],
            clientID: "scorer-tests", logger: quietLogger)
    }

    func send(_ events: [InboundEvent]) async throws {
        try await send(events.map { ($0.key, EventWriter.encode($0)) }, to: Topic.readings)
    }

    func sendRaw(_ payloads: [[UInt8]], key: String = "raw") async throws {
        try await send(payloads.map { (key, $0) }, to: Topic.readings)
    }
}

/// A scorer service running on the test mesh until `stop()`.
final class RunningScorer: Sendable {
    let worker: ScoringWorker
    let readiness: ReadinessChecks
    private let running: RunningGroup

    init(
        mesh: TestMesh, modelPath: String, logModelPath: String = logModelPath, reloadInterval: Duration = .seconds(5),
        beforeStoringOffsets: @escaping @Sendable () async throws -> Void = {}, metrics: (any MetricsFactory)? = nil,
        configure: (inout ScorerSettings) -> Void = { _ in }
    ) throws {
        var settings = ScorerSettings()
        (settings.modelPath, settings.logModelPath, settings.reloadInterval) = (modelPath, logModelPath, reloadInterval)
        settings.batchSize = 200
        settings.kafka = mesh.kafka
        configure(&settings)
        let runtime = ServiceRuntime(
            settings: ServiceSettings(serviceName: "scorer"), logger: quietLogger, metricsFactory: metrics)
        self.readiness = runtime.readiness
        let (application, worker) = try buildApplication(
            runtime: runtime, settings: settings, beforeStoringOffsets: beforeStoringOffsets)
        self.worker = worker
        running = RunningGroup([application], logger: quietLogger)
    }

    func stop() async -> Result<Void, any Error> { await running.stop() }
    func ended() async -> Result<Void, any Error> { await running.ended() }
}

extension KafkaConsumerMessage {
    var scored: ScoredEvent? { value.flatMap { try? EventCodec.decodeScored(Array($0)) } }
    var deadLetter: DeadLetter? { value.flatMap { try? EventCodec.decodeDeadLetter(Array($0)) } }
}
