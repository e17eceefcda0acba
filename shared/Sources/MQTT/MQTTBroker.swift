// Where a service finds its MQTT broker and as whom: MQTT_URL, MQTT_USERNAME and
// MQTT_PASSWORD, declared once for every service that speaks MQTT (ingest, the generator).
import Settings

public struct MQTTBroker: Sendable, Equatable {
    /// `mqtt://[user[:password]@]host[:port]`; nil: no broker.
    public var url: String?
    /// Win over those in the URL.
    public var username: String?
    public var password: String?

    public init(url: String? = nil) { self.url = url }

    /// The three settings; `urlHelp` says what the service does with the broker.
    public static func declarations(urlHelp: String) -> [Setting<MQTTBroker>] {
        [
            .optional(
                "mqtt-url", env: "MQTT_URL", \.url, help: urlHelp + " mqtt://[user:password@]host[:port].",
                valueName: "url", secret: true, rule: "must look like mqtt://host:1883",
                where: { (try? MQTTConfiguration(url: $0, clientID: "check")) != nil }),
            .optional(
                "mqtt-username", env: "MQTT_USERNAME", \.username,
                help: "User name on the MQTT broker (else the one in MQTT_URL)."),
            .optional(
                "mqtt-password", env: "MQTT_PASSWORD", \.password,
                help: "Password on the MQTT broker (else the one in MQTT_URL).", secret: true),
        ]
    }

    /// How to connect as `clientID`, or nil without a URL.
    public func configuration(clientID: String) throws(MQTTError) -> MQTTConfiguration? {
        guard let url else { return nil }
        var configuration = try MQTTConfiguration(url: url, clientID: clientID)
        if let username { configuration.username = username }
        if let password { configuration.password = password }
        guard configuration.password == nil || configuration.username != nil else {
            // MQTT 3.1.1 (3.1.2.9): no password without a user name; the server would hang up.
            throw MQTTError(.invalidConfiguration, "an MQTT password needs a user name (MQTT_USERNAME)")
        }
        return configuration
    }
}
