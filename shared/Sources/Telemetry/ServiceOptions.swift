// The settings every Alertron service shares, as flags with environment fallbacks:
// a flag wins over its environment variable, which wins over the documented default.
import ArgumentParser
import Foundation
import Kafka
import Logging

/// What differs between services in the common settings.
public protocol ServiceDefaults: Sendable {
    /// The service's name: logs, metrics and the Kafka client id use it.
    static var serviceName: String { get }
    /// The HTTP port of the service's API, /metrics, /healthz and /readyz.
    static var port: Int { get }
}

/// Flags for `@OptionGroup`: `--port`, `--host`, `--log-level`, `--kafka-brokers`, `--kafka-property`.
public struct ServiceOptions<Defaults: ServiceDefaults>: ParsableArguments {
    @Option(help: ArgumentHelp("HTTP port for the API, /metrics, /healthz and /readyz; 0 picks a free one. [env: PORT] (default: \(Defaults.port))"))
    var port: Int?

    @Option(help: "Address the HTTP server listens on. [env: HOST] (default: 0.0.0.0)")
    var host: String?

    @Option(name: .customLong("log-level"),
            help: "trace, debug, info, notice, warning, error or critical; logs are JSON lines on stderr. [env: LOG_LEVEL] (default: info)")
    var logLevel: String?

    @Option(name: .customLong("kafka-brokers"), help: "Kafka bootstrap servers, comma-separated. [env: KAFKA_BROKERS] (default: 127.0.0.1:9092)")
    var kafkaBrokers: String?

    @Option(name: .customLong("kafka-property"),
            help: ArgumentHelp("Any librdkafka property, repeatable, e.g. security.protocol=SASL_SSL. [env: KAFKA_<PROPERTY>, e.g. KAFKA_SECURITY_PROTOCOL]",
                               valueName: "name=value"))
    var kafkaProperties: [String] = []

    public init() {}

    /// Resolves flags, then the environment, then defaults; names the setting at fault.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceSettings {
        var kafka = KafkaConfiguration.fromEnvironment(environment, clientID: Defaults.serviceName)
        if let kafkaBrokers { kafka.bootstrapServers = kafkaBrokers }
        for pair in kafkaProperties {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--kafka-property expects name=value")
            }
            kafka.properties[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        let levelName = try Setting.resolve(logLevel, env: "LOG_LEVEL", default: "info", environment: environment)
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ValidationError("LOG_LEVEL / --log-level: '\(levelName)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        let port = try Setting.resolve(port, env: "PORT", default: Defaults.port, environment: environment)
        guard (0...65535).contains(port) else { throw ValidationError("PORT / --port: \(port) is not a TCP port") }
        return ServiceSettings(
            serviceName: Defaults.serviceName,
            host: try Setting.resolve(host, env: "HOST", default: "0.0.0.0", environment: environment),
            port: port,
            logLevel: level,
            kafka: kafka)
    }
}

/// The resolved common settings of one service process.
public struct ServiceSettings: Sendable {
    public var serviceName: String
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var kafka: KafkaConfiguration

    public init(serviceName: String, host: String = "127.0.0.1", port: Int = 0, logLevel: Logger.Level = .info,
                kafka: KafkaConfiguration = KafkaConfiguration()) {
        self.serviceName = serviceName
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.kafka = kafka
    }
}

/// One rule for every setting of every service: flag, else environment variable, else default.
public enum Setting {
    public static func resolve<Value: LosslessStringConvertible>(
        _ flag: Value?, env name: String, default defaultValue: Value,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Value {
        if let flag { return flag }
        guard let text = environment[name], !text.isEmpty else { return defaultValue }
        guard let value = Value(text) else {
            // The value itself is left out: settings may hold secrets.
            throw ValidationError("environment variable \(name) is not a valid \(Value.self)")
        }
        return value
    }

    /// An optional setting with no default (tokens, URLs): flag, else environment, else nil.
    public static func resolve(_ flag: String?, env name: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let flag { return flag }
        guard let text = environment[name], !text.isEmpty else { return nil }
        return text
    }
}
