// Settings resolve flag > environment > default, and bad values name the setting.
import ArgumentParser
import Testing
@testable import Telemetry

private struct TestDefaults: ServiceDefaults {
    static let serviceName = "testsvc"
    static let port = 8089
}

@Suite struct ServiceOptionsTests {
    private func parse(_ arguments: [String]) throws -> ServiceOptions<TestDefaults> {
        try ServiceOptions<TestDefaults>.parse(arguments)
    }

    @Test func defaultsApplyWhenNeitherFlagNorEnvironmentIsSet() throws {
        let settings = try parse([]).resolve(environment: [:])
        #expect(settings.port == 8089)
        #expect(settings.host == "0.0.0.0")
        #expect(settings.logLevel == .info)
        #expect(settings.kafka.bootstrapServers == "127.0.0.1:9092")
        #expect(settings.kafka.clientID == "testsvc")
    }

    @Test func environmentOverridesDefaultsAndFlagsOverrideEnvironment() throws {
        let environment = ["PORT": "9000", "LOG_LEVEL": "debug", "KAFKA_BROKERS": "env:9092", "KAFKA_ACKS": "all"]
        let fromEnvironment = try parse([]).resolve(environment: environment)
        #expect(fromEnvironment.port == 9000)
        #expect(fromEnvironment.logLevel == .debug)
        #expect(fromEnvironment.kafka.bootstrapServers == "env:9092")
        #expect(fromEnvironment.kafka.properties["acks"] == "all")

        let fromFlags = try parse(["--port", "9100", "--log-level", "error", "--kafka-brokers", "flag:9092",
                                   "--kafka-property", "acks=1", "--kafka-property", "socket.timeout.ms=5000"])
            .resolve(environment: environment)
        #expect(fromFlags.port == 9100)
        #expect(fromFlags.logLevel == .error)
        #expect(fromFlags.kafka.bootstrapServers == "flag:9092")
        #expect(fromFlags.kafka.properties == ["acks": "1", "socket.timeout.ms": "5000"])
    }

    @Test func anInvalidEnvironmentValueNamesTheVariableButNotTheValue() throws {
        #expect {
            _ = try parse([]).resolve(environment: ["PORT": "secret-looking-value"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("PORT") && !text.contains("secret-looking-value")
        }
        #expect(throws: ValidationError.self) { _ = try parse([]).resolve(environment: ["LOG_LEVEL": "loud"]) }
        #expect(throws: ValidationError.self) { _ = try parse(["--kafka-property", "novalue"]).resolve(environment: [:]) }
        #expect(throws: ValidationError.self) { _ = try parse(["--port", "70000"]).resolve(environment: [:]) }
    }

    @Test func helpListsEverySettingWithItsEnvironmentVariableAndDefault() {
        let help = ServiceOptions<TestDefaults>.helpMessage(columns: 1000)
        for expected in ["--port", "[env: PORT]", "(default: 8089)", "--host", "[env: HOST]", "--log-level", "[env: LOG_LEVEL]",
                         "--kafka-brokers", "[env: KAFKA_BROKERS]", "--kafka-property", "KAFKA_<PROPERTY>"] {
            #expect(help.contains(expected), "help lacks \(expected)")
        }
    }
}
