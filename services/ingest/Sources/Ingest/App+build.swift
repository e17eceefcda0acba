// Assembles the ingest service from its parts; tests call it with port 0.
import Hummingbird
import Kafka
import Telemetry

func buildApplication(runtime: ServiceRuntime) throws -> some ApplicationProtocol {
    let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: runtime.settings.kafka), logger: runtime.logger)
    runtime.readiness.addKafkaCheck(producer)
    return runtime.makeApplication(router: runtime.makeRouter(), services: [producer])
}
