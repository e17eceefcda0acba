// The MQTT target: the fleet publishes as real devices do, each event one QoS 1 message on
// `<prefix>/<device>/readings` or `<prefix>/<source>/logs` (Alertron's JSON, which ingest reads
// there). A batch is resent until the broker has acknowledged all of it; a lost connection is
// made again. Given up only when shutdown's drain time runs out or the broker refuses the
// credentials.
import Kafka
import Logging
import MQTT

final class MQTTFleet: EventSink {
    let configuration: MQTTConfiguration
    let prefix: String
    let logger: Logger
    /// The connection batches share; made on first use and again after it is lost.
    private let connection = SharedConnection()

    init(configuration: MQTTConfiguration, prefix: String, logger: Logger) {
        (self.configuration, self.prefix, self.logger) = (configuration, prefix, logger)
    }

    var name: String { "mqtt \(configuration.host):\(configuration.port) \(prefix)/+/readings|logs" }
    var format: BatchEncoder.Format { .mqtt(prefix: prefix) }

    func deliver(_ batch: OutgoingBatch, context: DeliveryContext) async throws -> DeliveryOutcome {
        guard !batch.mqtt.isEmpty else { return .delivered }
        // Jitter: the batches in flight all fail together when the connection drops.
        var backoff = Backoff(jitter: true)
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
        try await connection.get(configuration)
    }

}

/// One connection for every batch in flight: when it is lost, the first caller connects again
/// and the others wait for that connection. Several at once under one client id would have
/// the broker close each older one in turn.
actor SharedConnection {
    private var current: MQTTConnection?
    private var connecting: Task<MQTTConnection, any Error>?

    func get(_ configuration: MQTTConfiguration) async throws(MQTTError) -> MQTTConnection {
        if let current, current.isActive { return current }
        let attempt =
            connecting
            ?? Task { () async throws -> MQTTConnection in try await MQTTConnection.connect(configuration) }
        connecting = attempt
        do {
            let made = try await attempt.value
            if connecting == attempt { (current, connecting) = (made, nil) }
            return made
        } catch {
            if connecting == attempt { connecting = nil }
            throw (error as? MQTTError) ?? MQTTError(.connectionClosed, "\(error)")
        }
    }
}
