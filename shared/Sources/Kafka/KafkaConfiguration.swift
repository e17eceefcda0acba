// Client settings shared by producer, consumer and admin, read from code or from the
// environment (`KAFKA_BROKERS` plus any librdkafka property as `KAFKA_<PROPERTY>`).

/// Connection settings common to every Kafka client.
public struct KafkaConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Bootstrap servers, comma-separated. Default `127.0.0.1:9092`.
    public var bootstrapServers: String
    /// `client.id` reported to the broker. Default `alertron`.
    public var clientID: String
    /// Any other librdkafka property (for example `security.protocol`, `sasl.mechanism`).
    /// Applied last, so it overrides every default this module sets.
    public var properties: [String: String]
    /// Properties that came from `KAFKA_*` environment variables: one librdkafka does not
    /// know is skipped with a warning instead of failing start-up, because orchestrators
    /// inject unrelated `KAFKA_*` variables (Kubernetes: KAFKA_PORT for a Service "kafka").
    public internal(set) var environmentPropertyNames: Set<String> = []

    public init(
        bootstrapServers: String = "127.0.0.1:9092", clientID: String = "alertron", properties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.properties = properties
    }

    /// Reads `KAFKA_BROKERS` and every other `KAFKA_*` variable as a librdkafka property:
    /// `KAFKA_SECURITY_PROTOCOL=SASL_SSL` becomes `security.protocol=SASL_SSL`.
    /// Unknown property names are rejected by librdkafka when a client is created, naming them.
    public static func fromEnvironment(
        _ environment: [String: String],
        clientID: String = "alertron"
    ) -> KafkaConfiguration {
        let defaults = KafkaConfiguration(clientID: clientID)
        // Neither setting can refuse a value from the environment.
        return (try? resolve([], environment: environment, defaults: defaults)) ?? defaults
    }

    /// `KAFKA_SASL_MECHANISM` -> `sasl.mechanism`.
    public static func propertyName(forEnvironmentVariable name: String) -> String {
        String(name.dropFirst("KAFKA_".count)).lowercased().replacingOccurrences(of: "_", with: ".")
    }

    /// The property names whose values are secrets and must never be logged.
    static func isSecret(_ property: String) -> Bool {
        property.contains("password") || property.contains("secret") || property.hasPrefix("ssl.key")
            || property.hasSuffix(".key") || property.contains("token") || property.contains("jaas")
            || property.contains("oauthbearer.config")
    }

    /// Bootstrap servers, client id and properties, with secret values redacted.
    public var description: String {
        """
        KafkaConfiguration(bootstrap: \(bootstrapServers), client.id: \(clientID), properties: \
        [\(redactedProperties.joined(separator: ", "))])
        """
    }

    /// `name=value` per property, sorted, secret values redacted.
    var redactedProperties: [String] {
        properties.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.isSecret($0.key) ? "<redacted>" : $0.value)" }
    }

    /// Properties as librdkafka receives them: defaults, then ours, then the user's.
    func librdkafkaProperties(defaults: [String: String]) -> [String: String] {
        var all = defaults
        all["bootstrap.servers"] = bootstrapServers
        all["client.id"] = clientID
        all.merge(properties) { _, user in user }
        return all
    }
}

/// Producer settings; every default is the one the services run with.
public struct KafkaProducerConfiguration: Sendable {
    public var kafka: KafkaConfiguration
    /// `enable.idempotence`: no duplicates or reordering from producer retries. Default true.
    public var idempotent: Bool = true
    /// `compression.type`: none, gzip, snappy, lz4 or zstd. Default zstd.
    public var compression: String = "zstd"
    /// `linger.ms`: how long to wait to fill a batch. Default 5 ms.
    public var lingerMilliseconds: Int = 5
    /// `queue.buffering.max.messages`: the local queue bound; beyond it `send` throws `.queueFull`.
    public var queueMaxMessages: Int = 100_000
    /// `message.timeout.ms`: how long librdkafka retries a message before reporting failure.
    public var deliveryTimeoutMilliseconds: Int = 30_000
    /// How long shutdown waits for outstanding deliveries before reporting them lost.
    public var flushTimeout: Duration = .seconds(10)

    public init(kafka: KafkaConfiguration) { self.kafka = kafka }

    var librdkafkaProperties: [String: String] {
        kafka.librdkafkaProperties(defaults: [
            "enable.idempotence": String(idempotent),
            "compression.type": compression,
            "linger.ms": String(lingerMilliseconds),
            "queue.buffering.max.messages": String(queueMaxMessages),
            "message.timeout.ms": String(deliveryTimeoutMilliseconds),
        ])
    }
}

/// Consumer-group settings.
public struct KafkaConsumerConfiguration: Sendable {
    public var kafka: KafkaConfiguration
    /// `group.id`.
    public var groupID: String
    /// Topics to subscribe to.
    public var topics: [String]
    /// At most this many messages per batch handed to the caller. Default 1000.
    public var maxBatchSize: Int = 1000
    /// How long one poll waits for messages before checking for shutdown. Default 100 ms.
    public var pollTimeoutMilliseconds: Int = 100
    /// `auto.offset.reset` for a group with no committed offset. Default earliest.
    public var autoOffsetReset: String = "earliest"
    /// `auto.commit.interval.ms`: how often stored offsets are committed. Default 1000 ms.
    public var commitIntervalMilliseconds: Int = 1000
    /// `session.timeout.ms`; nil keeps librdkafka's default (45 s). Every member of a group
    /// should use the same value (the local profile uses 6000).
    public var sessionTimeoutMilliseconds: Int?
    /// The topics are co-partitioned (same keys, same partition count) and a member must get the
    /// same partition numbers of each: a verdict beside the readings of its device. Uses the
    /// range assignor, which does that; the default, cooperative-sticky, balances the total
    /// and can give one member every partition of one topic. Range is eager (a rebalance revokes
    /// every partition), and members of the two protocols cannot share a group.
    /// `KAFKA_PARTITION_ASSIGNMENT_STRATEGY` still wins.
    public var coPartitioned = false

    public init(kafka: KafkaConfiguration, groupID: String, topics: [String]) {
        self.kafka = kafka
        self.groupID = groupID
        self.topics = topics
    }

    var librdkafkaProperties: [String: String] {
        var defaults = [
            "group.id": groupID,
            "partition.assignment.strategy": coPartitioned ? "range" : "cooperative-sticky",
            // At-least-once: the caller stores an offset only after the work it covers is done;
            // librdkafka then commits stored offsets in the background and on close.
            "enable.auto.offset.store": "false",
            "enable.auto.commit": "true",
            "auto.commit.interval.ms": String(commitIntervalMilliseconds),
            "auto.offset.reset": autoOffsetReset,
        ]
        if let sessionTimeoutMilliseconds {
            defaults["session.timeout.ms"] = String(sessionTimeoutMilliseconds)
        }
        var properties = kafka.librdkafkaProperties(defaults: defaults)
        // Not overridable: with automatic offset store a crash would lose polled messages.
        properties["enable.auto.offset.store"] = "false"
        return properties
    }
}
