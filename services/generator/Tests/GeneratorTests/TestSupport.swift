// Shared pieces of the generator's tests: settings for a quick deterministic run, a
// development broker and a reader for it, and the generator running as a service.
import Events
import Foundation
import Hummingbird
import Kafka
import Logging
import CoreMetrics
import ServiceLifecycle
import Telemetry
import Testing
@_exported import AlertronTesting
@testable import Generator

let quietLogger = testLogger("generator-tests")

/// Settings for a test run: as fast as possible, a fixed clock and run id, so every run of
/// a test sends the same events.
func testSettings(count: Int, mode: GeneratorMode = .readings, seed: UInt64 = 7) -> GeneratorSettings {
    var settings = GeneratorSettings()
    settings.rate = 0
    settings.count = count
    settings.stream.mode = mode
    settings.stream.seed = seed
    settings.stream.runID = "test"
    settings.stream.start = EventTime.parse("2026-01-01T00:00:00Z")
    settings.batchSize = 200
    settings.drainTimeout = .seconds(2)
    return settings
}

/// `count` events of a stream made with `configuration`.
func events(
    _ count: Int, _ configuration: EventStream.Configuration, replay: LogReplay? = nil
) throws -> [GeneratedEvent] {
    var stream = EventStream(configuration: configuration, replay: replay)
    var events: [GeneratedEvent] = []
    events.reserveCapacity(count)
    while events.count < count, let event = try stream.next(wallClock: "2026-01-01T00:00:00.000Z") {
        events.append(event)
    }
    return events
}

extension GeneratedEvent {
    var reading: Reading? {
        if case .reading(let reading) = event { return reading }
        return nil
    }

    var log: Events.LogEvent? {
        if case .log(let log) = event { return log }
        return nil
    }
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("generator-\(UUID().uuidString)-\(name)").path
}

extension TestMesh {
    /// A development broker with the `readings` topic.
    convenience init() throws {
        try self.init(topics: [Topic.readings], clientID: "generator-tests", logger: quietLogger)
    }
}

/// The generator service (HTTP server, worker, target) running until it finishes or `stop()`.
final class RunningGenerator: Sendable {
    let worker: GenerationWorker
    private let running: RunningGroup

    init(
        settings: GeneratorSettings, kafka: KafkaConfiguration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1"),
        metrics: (any MetricsFactory)? = nil
    ) throws {
        var settings = settings
        settings.kafka = kafka
        let runtime = ServiceRuntime(
            settings: ServiceSettings(serviceName: "generator"), logger: quietLogger, metricsFactory: metrics)
        let (application, worker) = try buildApplication(runtime: runtime, settings: settings)
        self.worker = worker
        running = RunningGroup(serviceGroup(application: application, worker: worker, logger: quietLogger))
    }

    var hasFinished: Bool { worker.hasFinished }

    func stop() async -> Result<Void, any Error> { await running.stop() }
    func ended() async -> Result<Void, any Error> { await running.ended() }
}

extension KafkaConsumerMessage {
    var inbound: InboundEvent? { value.flatMap { try? EventCodec.decodeInbound(Array($0)) } }
}

extension Reading {
    // The fleet's readings are of the default profile: its three legacy channels are always there.
    var temperature: Double { value(of: "temperature") ?? .nan }
    var pressure: Double { value(of: "pressure") ?? .nan }
    var vibration: Double { value(of: "vibration") ?? .nan }
}
