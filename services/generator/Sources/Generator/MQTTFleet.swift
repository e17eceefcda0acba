// The MQTT target: the fleet publishes as real devices do, each event one QoS 1 message on
// `<prefix>/<device>/readings` or `<prefix>/<source>/logs` (Alertron's JSON, which ingest reads
// there). A batch is resent until the broker has acknowledged all of it; a lost connection is
// made again. Given up only when shutdown's drain time runs out or the broker refuses the
// credentials.
import Kafka
import Logging
import MQTT
import Synchronization

final class MQTTFleet: EventSink {
    let configuration: MQTTConfiguration
    let prefix: String
    let logger: Logger
    /// The connection batches share; made on first use and again after it is lost.
    private let connection = Mutex<MQTTConnection?>(nil)

    init(configuration: MQTTConfiguration, prefix: String, logger: Logger) {
        (self.configuration, self.prefix, self.logger) = (configuration, prefix, logger)
    }

    var name: String { "mqtt \(configuration.host):\(configuration.port) \(prefix)/+/readings|logs" }
    var format: BatchEncoder.Format { .mqtt(prefix: prefix) }

    func deliver(_ batch: OutgoingBatch, context: DeliveryContext) async throws -> DeliveryOutcome {
        guard !batch.mqtt.isEmpty else { return .delivered }
        var backoff = Backoff()
        while true {
            do {
                let connection = try await connected()
                let messages = batch.mqtt
                guard try await context.unlessExpired({ try await connection.publish(messages) }) != nil else {
                    return .abandoned
                }
                return .delivered
            } catch let error as MQTTError {
                context.attemptFailed(reason: "mqtt_\(error.code.rawValue)")
                guard error.isRetriable else {
                    throw GeneratorError(.mqttRefused, "the MQTT broker refused the fleet: \(error)")
                }
                forget()
                // Resending may duplicate messages that did arrive; their ids let consumers drop them.
                let wait = backoff.next()
                logger.warning(
                    "batch not acknowledged by the MQTT broker; sending it again",
                    metadata: ["error": "\(error)", "retry_in": "\(wait)", "events": "\(batch.count)"])
                guard await context.sleep(wait) else { return .abandoned }
            }
        }
    }

    /// A device id or log source as one topic level: `/`, `+` and `#` become `_` (the payload
    /// keeps the name itself, and ingest reads it from there).
    static func topicLevel(_ name: String) -> String {
        name.isEmpty ? "_" : String(name.map { "/+#".contains($0) ? "_" : $0 })
    }

    /// Readiness: the broker accepts the fleet's connection.
    func checkConnection() async throws { _ = try await connected() }

    private func connected() async throws(MQTTError) -> MQTTConnection {
        if let open = connection.withLock({ $0 }), open.isActive { return open }
        let made = try await MQTTConnection.connect(configuration)
        let (kept, extra) = connection.withLock { current -> (MQTTConnection, MQTTConnection?) in
            if let current, current.isActive { return (current, made) }
            current = made
            return (made, nil)
        }
        if let extra { await extra.close() }
        return kept
    }

    private func forget() {
        connection.withLock { current in
            if let open = current, !open.isActive { current = nil }
        }
    }

}
