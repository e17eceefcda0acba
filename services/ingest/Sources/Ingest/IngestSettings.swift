// The ingest service's own settings, each declared once: flag, environment variable, help, and
// the field (whose initial value is the default).
import Events
import Kafka
import MQTT
import Telemetry

package struct IngestSettings: DeclaredSettings {
    /// Every setting at its default.
    package init() {}

    package var kafka = KafkaConfiguration(clientID: "ingest")
    /// nil: the routes need no token.
    package var token: String?
    package var maxBodyBytes = 4 << 20
    package var maxEvents = 10_000
    package var ackTimeoutMilliseconds = 5_000
    package var topic = Topic.readings
    /// The Loki stream label that names a pushed line's source (`service_name` when it is absent).
    package var lokiSourceLabel = "job"
    /// No URL: ingest does not subscribe to MQTT.
    package var mqtt = MQTTBroker()
    package var mqttTopics = ["devices/+/readings", "devices/+/logs"]
    package var mqttClientID = "alertron-ingest"

    /// How to connect to the MQTT broker, or nil when no MQTT_URL is set.
    package func mqttConfiguration() throws -> MQTTConfiguration? {
        try mqtt.configuration(clientID: mqttClientID)
    }

    package static let declarations: [Setting<IngestSettings>] =
        KafkaConfiguration.declarations.within(\.kafka) + [
            .optional(
                "token", env: "INGEST_TOKEN", \.token,
                help: "Bearer token every request to the ingest routes must carry; unset: no token needed.",
                secret: true),
            .value(
                "max-body-bytes", env: "INGEST_MAX_BODY_BYTES", \.maxBodyBytes,
                help: "Largest request body accepted (413 beyond).",
                valueName: "bytes", rule: "must be positive", where: { $0 > 0 }),
            // The producer's local queue (100k messages) must hold a whole request.
            .value(
                "max-events", env: "INGEST_MAX_EVENTS", \.maxEvents, help: "Most events in one request (413 beyond).",
                valueName: "n", rule: "must be between 1 and 100000", where: { (1...100_000).contains($0) }),
            .value(
                "ack-timeout-ms", env: "INGEST_ACK_TIMEOUT_MS", \.ackTimeoutMilliseconds,
                help: "How long a request waits for the broker to acknowledge its events before answering 503.",
                valueName: "ms", rule: "must be at least 100", where: { $0 >= 100 }),
            .value(
                "topic", env: "INGEST_TOPIC", \.topic, help: "Topic readings and log lines are produced to.",
                valueName: "topic"),
            .value(
                "loki-source-label", env: "INGEST_LOKI_SOURCE_LABEL", \.lokiSourceLabel,
                help: "Stream label of a Loki push that names its lines' source (else the label service_name).",
                valueName: "label", rule: "must not be empty", where: { !$0.isEmpty }),
        ]
        + MQTTBroker.declarations(
            urlHelp: "MQTT broker ingest subscribes to (QoS 1, persistent session); unset: no MQTT."
        ).within(\.mqtt)
        + [
            .parsed(
                "mqtt-topics", env: "MQTT_TOPICS", \.mqttTopics,
                help:
                    "Topic filters subscribed to, comma-separated; a topic's last level is readings or logs and the "
                    + "level before it the device id ($share/<group>/ filters share the work between replicas).",
                valueName: "filters", rule: "must be comma-separated MQTT topic filters",
                parse: { (text) throws(SettingsError) in
                    let filters = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    if let problem = filters.lazy.compactMap(MQTTTopicFilter.problem).first {
                        throw SettingsError(problem)
                    }
                    return filters.isEmpty ? nil : filters
                },
                show: { $0.joined(separator: ",") }),
            .value(
                "mqtt-client-id", env: "MQTT_CLIENT_ID", \.mqttClientID,
                help: "MQTT client identifier: the broker keeps the persistent session under it, so keep it stable "
                    + "across restarts and distinct per replica.",
                valueName: "id", rule: "must be 1 to 23 characters of 0-9, a-z, A-Z, - and _",
                where: { id in
                    (1...23).contains(id.utf8.count)
                        && id.utf8.allSatisfy {
                            $0 < 0x80
                                && (Character(Unicode.Scalar($0)).isLetter
                                    || Character(Unicode.Scalar($0)).isNumber || $0 == 0x2D || $0 == 0x5F)
                        }
                }),
        ]
}
