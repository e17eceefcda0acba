// Shared pieces of the scorer's tests: trained sensor and log models on disk, a development
// broker, the running service, and readers for its output topics.
import Events
import Foundation
import Hummingbird
import Kafka
import Logging
import Models
import ServiceLifecycle
import Telemetry
import Testing
@_exported import AlertronTesting
@testable import Scorer

let quietLogger: Logger = {
    var logger = Logger(label: "scorer-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// A sensor model trained once for all tests (small, so training is quick).
let sensorModel: IsolationForest = {
    var parameters = IsolationForest.Parameters()
    parameters.trees = 50
    return try! IsolationForest.train(SensorProfile.normalReadings(count: 4000, seed: 7),
                                      featureNames: SensorProfile.featureNames, parameters: parameters)
}()

/// Log lines of a few templates with varying values; a third of them critical.
func labeledLogs(count: Int, seed: Int) -> [LabeledLog] {
    (0..<count).map { index in
        let n = index * 37 + seed * 1_000
        switch index % 6 {
        case 0: return LabeledLog(message: "md\(n % 4): Disk failure on sdb\(n % 8), disabling device", critical: true)
        case 1: return LabeledLog(message: "Out of memory: Killed process \(n) (java) total-vm:\(n * 3)kB", critical: true)
        case 2: return LabeledLog(message: "session opened for user u\(n) by (uid=0)", critical: false)
        case 3: return LabeledLog(message: "GET /api/v1/items/\(n) 200 \(n % 90)ms", critical: false)
        case 4: return LabeledLog(message: "checkpoint complete: wrote \(n) buffers", critical: false)
        default: return LabeledLog(message: "backup of /srv/db\(n % 3) completed in \(n % 50)s, 0 errors", critical: false)
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
    Reading(id: EventID.generate(), ts: Timestamp.now(), deviceID: device, temperature: temperature, pressure: pressure, vibration: vibration)
}

/// A development broker with the standard topics, and a producer to feed it.
struct TestMesh {
    let cluster: KafkaDevelopmentCluster
    let producer: KafkaProducer

    let kafka: KafkaConfiguration

    init() throws {
        let cluster = try KafkaDevelopmentCluster(logger: quietLogger)
        for topic in ["readings", "scored", "anomalies", "readings.dlq"] { try cluster.createTopic(topic, partitions: 6) }
        self.cluster = cluster
        kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "scorer-tests",
                                   properties: ["session.timeout.ms": "6000"])
        producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: quietLogger)
    }

    func send(_ events: [InboundEvent]) async throws {
        var batch = KafkaProducerBatch()
        for event in events { batch.append(topic: "readings", key: event.key, value: EventWriter.encode(event)) }
        _ = try await producer.send(batch)
    }

    func sendRaw(_ payloads: [[UInt8]], key: String = "raw") async throws {
        var batch = KafkaProducerBatch()
        for payload in payloads { batch.append(topic: "readings", key: key, value: payload) }
        _ = try await producer.send(batch)
    }

    /// Every message on `topic` until `count` arrived (fresh group each call).
    func read(_ topic: String, count: Int, within seconds: Double = 30) async throws -> [KafkaConsumerMessage] {
        try await readTopic(topic, kafka: kafka, count: count, within: seconds, logger: quietLogger)
    }
}

/// A scorer service running on the test mesh until `stop()`.
final class RunningScorer: Sendable {
    let worker: ScoringWorker
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(mesh: TestMesh, modelPath: String, logModelPath: String = logModelPath, reloadInterval: Duration = .seconds(5),
         beforeStoringOffsets: @escaping @Sendable () async throws -> Void = {}) throws {
        let settings = ScorerSettings(modelPath: modelPath, logModelPath: logModelPath, batchSize: 200, reloadInterval: reloadInterval,
                                      kafka: mesh.kafka)
        let runtime = ServiceRuntime(settings: ServiceSettings(serviceName: "scorer"), logger: quietLogger)
        let (application, worker) = try buildApplication(runtime: runtime, settings: settings, beforeStoringOffsets: beforeStoringOffsets)
        self.worker = worker
        let group = ServiceGroup(configuration: .init(services: [application], logger: quietLogger))
        self.group = group
        task = Task { try await group.run() }
    }

    /// Graceful shutdown; returns how the service group ended.
    func stop() async -> Result<Void, any Error> {
        await group.triggerGracefulShutdown()
        return await task.result
    }

    /// Waits for the service to end on its own (after a simulated crash).
    func ended() async -> Result<Void, any Error> { await task.result }
}

extension KafkaConsumerMessage {
    var scored: ScoredEvent? { value.flatMap { try? EventCodec.decodeScored(Array($0)) } }
    var deadLetter: DeadLetter? { value.flatMap { try? EventCodec.decodeDeadLetter(Array($0)) } }
}
