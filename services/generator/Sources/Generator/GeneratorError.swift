// The one error type of the generator: a code to branch on, whether trying again can help,
// and a message a person can act on. Event payloads and tokens never appear in it.

package struct GeneratorError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// The replay file cannot be opened or read.
        case replayFile = "replay_file"
        /// Ingest refused a request for good (400, 401, 403, 404, 415...): resending cannot help.
        case ingestRejected = "ingest_rejected"
        /// Ingest answered something this client does not understand.
        case ingestResponse = "ingest_response"
        /// Kafka refused a batch for good (too large, not authorised, a bad topic...).
        case kafkaRejected = "kafka_rejected"
        /// The MQTT broker refused the fleet for good (its credentials).
        case mqttRefused = "mqtt_refused"
        /// A file of scored events cannot be read.
        case scoredFile = "scored_file"
    }

    var code: Code
    var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "generator \(code.rawValue): \(message)" }
}
