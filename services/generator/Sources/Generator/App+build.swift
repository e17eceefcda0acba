// Assembles the generator service: its target (a Kafka producer, or ingest over HTTP), the
// generating worker, and the HTTP server for /metrics, /healthz and /readyz. Tests call it
// with port 0 and their own broker or stand-in ingest.
import Hummingbird
import Kafka
import Telemetry

/// The application, and its worker for callers to observe. `whenFinished` runs once a finite
/// run (--count, or a replay file that ends) has every event acknowledged.
package func buildApplication(runtime: ServiceRuntime, settings: GeneratorSettings,
                      whenFinished: @escaping @Sendable () async -> Void = {}) throws
    -> (application: some ApplicationProtocol, worker: GenerationWorker) {
    let logger = runtime.logger
    switch settings.target {
    case .kafka:
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: settings.kafka), logger: logger)
        runtime.readiness.add("kafka", producer.checkReachable)
        let worker = GenerationWorker(settings: settings, sink: KafkaSink(producer: producer, topic: settings.topic, logger: logger),
                                      logger: logger, whenFinished: whenFinished)
        // Shutdown runs in reverse: HTTP, then the worker stops generating and waits for
        // its batches in flight, then the producer flushes.
        return (runtime.makeApplication(router: runtime.makeRouter(), services: [producer, worker]), worker)
    case .http:
        let client = IngestClient(baseURL: settings.ingestURL, token: settings.ingestToken,
                                  connections: settings.inFlightBatches, logger: logger)
        runtime.readiness.add("ingest") { try await client.checkHealth() }
        let worker = GenerationWorker(settings: settings, sink: client, logger: logger, whenFinished: whenFinished)
        return (runtime.makeApplication(router: runtime.makeRouter(), services: [worker]), worker)
    }
}
