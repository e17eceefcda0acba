// Assembles the ingest service from its parts; tests call it with port 0.
import Hummingbird
import Events
import Kafka
import ServiceLifecycle
import Telemetry

package func buildApplication(
    runtime: ServiceRuntime, settings: IngestSettings = IngestSettings()
) throws -> some ApplicationProtocol {
    var configuration = KafkaProducerConfiguration(kafka: settings.kafka)
    // A request waits for its acknowledgement: a short linger keeps that wait short, and the
    // delivery timeout is the request's deadline, so an unreachable broker answers 503 in time
    // and leaves nothing queued behind a request that was refused.
    configuration.lingerMilliseconds = 1
    configuration.deliveryTimeoutMilliseconds = settings.ackTimeoutMilliseconds
    let producer = try KafkaProducer(configuration: configuration, logger: runtime.logger)
    runtime.readiness.add("kafka", producer.checkReachable)
    producer.declare(topics: [settings.topic])
    var services: [any Service] = [producer]
    let mqtt = try settings.mqttConfiguration()
    // MQTT's series exist at 0 even while MQTT is off: dashboards and rules read them.
    let metrics = IngestMetrics(runtime.metrics, mqttFilters: settings.mqttTopics)
    if let mqtt {
        // Unreadable MQTT messages cannot be answered with a 4xx: they become dead letters.
        producer.declare(topics: [Topic.deadLetters(of: settings.topic)])
        let subscriber = MQTTSubscriber(
            configuration: mqtt, filters: settings.mqttTopics, producer: producer, settings: settings,
            metrics: metrics, logger: runtime.logger)
        runtime.readiness.add("mqtt") { try subscriber.checkSession() }
        services.append(subscriber)
    }
    return buildApplication(
        runtime: runtime, settings: settings, producer: producer, metrics: metrics, services: services)
}

/// The routes over any producer; `services` run beside the HTTP server (the Kafka producer).
func buildApplication(
    runtime: ServiceRuntime, settings: IngestSettings, producer: any BatchSending, metrics: IngestMetrics? = nil,
    services: [any Service] = []
) -> some ApplicationProtocol {
    let router = runtime.makeRouter()
    router.addRoutes(
        IngestController(
            producer: producer, metrics: metrics ?? IngestMetrics(runtime.metrics), settings: settings,
            logger: runtime.logger
        ).routes)
    return runtime.makeApplication(router: router, services: services)
}
