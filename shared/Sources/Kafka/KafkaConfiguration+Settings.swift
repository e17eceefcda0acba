// The Kafka settings of every service that talks to Kafka, declared once.
import Settings

extension KafkaConfiguration: DeclaredSettings {
    public static let declarations: [Setting<KafkaConfiguration>] = [
        .value(
            "kafka-brokers", env: "KAFKA_BROKERS", \.bootstrapServers,
            help: "Kafka bootstrap servers, comma-separated.",
            valueName: "host:port,..."),
        .custom(
            "kafka-property", env: "KAFKA_<PROPERTY>",
            help:
                """
                Any librdkafka property, repeatable, e.g. security.protocol=SASL_SSL (as a variable: \
                KAFKA_SECURITY_PROTOCOL=SASL_SSL).
                """,
            valueName: "name=value",
            environment: { configuration, environment in
                for (name, value) in environment where name.hasPrefix("KAFKA_") && name != "KAFKA_BROKERS" {
                    let property = propertyName(forEnvironmentVariable: name)
                    configuration.properties[property] = value
                    configuration.environmentPropertyNames.insert(property)
                }
            },
            flag: { configuration, pair in
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw SettingsError("--kafka-property expects name=value")
                }
                let property = String(pair[..<equals])
                configuration.properties[property] = String(pair[pair.index(after: equals)...])
                configuration.environmentPropertyNames.remove(property)
            },
            show: { configuration in
                configuration.properties.isEmpty ? nil : configuration.redactedProperties.joined(separator: ",")
            }),
    ]
}
