// Assembles the generator service: its target (a Kafka producer, ingest over HTTP, or an MQTT broker), the
// generating worker, and the HTTP server for /metrics, /healthz and /readyz. Tests call it
// with port 0 and their own broker or stand-in ingest.
import Hummingbird
import Kafka
import Logging
import ServiceLifecycle
import Telemetry
import UnixSignals

/// The application (HTTP and the Kafka producer, if any), and the worker, which runs beside it
/// in `serviceGroup`.
package func buildApplication(
    runtime: ServiceRuntime, settings: GeneratorSettings
) throws
    -> (application: some ApplicationProtocol, worker: GenerationWorker)
{
    let logger = runtime.logger
    let metrics = GeneratorMetrics(runtime.metrics)
    switch settings.target {
    case .kafka:
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: settings.kafka), logger: logger)
        runtime.readiness.add("kafka", producer.checkReachable)
        producer.declare(topics: [settings.topic])
        let worker = GenerationWorker(
            settings: settings, sink: KafkaSink(producer: producer, topic: settings.topic, logger: logger),
            metrics: metrics, logger: logger)
        return (runtime.makeApplication(router: runtime.makeRouter(), services: [producer]), worker)
    case .http:
        let client = IngestClient(
            baseURL: settings.ingestURL, token: settings.ingestToken,
            connections: settings.inFlightBatches, logger: logger)
        runtime.readiness.add("ingest") { try await client.checkHealth() }
        // No Kafka client in this mode: its error and queue series still read 0, as the
        // dashboard's generator row expects of every generator.
        KafkaMetrics.declare()
        let worker = GenerationWorker(settings: settings, sink: client, metrics: metrics, logger: logger)
        return (runtime.makeApplication(router: runtime.makeRouter()), worker)
    case .mqtt:
        let fleet = MQTTFleet(
            configuration: try settings.mqttConfiguration(), prefix: settings.mqttTopicPrefix, logger: logger)
        runtime.readiness.add("mqtt") { try await fleet.checkConnection() }
        KafkaMetrics.declare()
        let worker = GenerationWorker(settings: settings, sink: fleet, metrics: metrics, logger: logger)
        return (runtime.makeApplication(router: runtime.makeRouter()), worker)
    }
}

/// The application and the worker in one group. A finished run (--count, or a replay that
/// ended) ends the worker, and the group shuts down as it does on SIGTERM: the worker is done,
/// then HTTP stops and the producer flushes. On SIGTERM the worker stops generating first and
/// its batches in flight get the drain timeout, before the producer flushes.
package func serviceGroup(
    application: some Service, worker: GenerationWorker, signals: [UnixSignal] = [],
    logger: Logger
) -> ServiceGroup {
    ServiceGroup(
        configuration: .init(
            services: [
                .init(service: application),
                .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: signals, logger: logger))
}
