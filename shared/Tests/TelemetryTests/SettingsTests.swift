// Settings resolve flag > environment > default, bad values name the setting (never the value),
// and --help and --show-settings come from the same declarations.
import ArgumentParser
import Kafka
import Testing
@testable import Telemetry

/// A service's own settings beside the common ones, as a service declares them.
private struct TestSettings: DeclaredSettings {
    var kafka = KafkaConfiguration(clientID: "testsvc")
    var token: String?
    var batchSize = 1000
    var loop = false

    static let declarations: [Setting<TestSettings>] =
        KafkaConfiguration.declarations.within(\.kafka) + [
            .optional("token", env: "TEST_TOKEN", \.token, help: "A secret.", secret: true),
            .value(
                "batch-size", env: "TEST_BATCH_SIZE", \.batchSize, help: "Most per batch.",
                rule: "must be between 1 and 50000",
                where: { (1...50_000).contains($0) }),
            .toggle("loop", env: "TEST_LOOP", \.loop, help: "Start over."),
        ]

    mutating func finish() throws {
        guard !(loop && batchSize == 1) else { throw SettingsError("--loop needs --batch-size above 1") }
    }
}

@Suite struct SettingsTests {
    private let service = ServiceSettings.service("testsvc", port: 8089)

    private func resolve(
        _ arguments: [String], _ environment: [String: String] = [:]
    ) throws
        -> Combined<ServiceSettings, TestSettings>
    {
        try Combined.resolve(arguments, environment: environment, defaults: Combined(service, TestSettings()))
    }

    @Test func defaultsApplyWhenNeitherFlagNorEnvironmentIsSet() throws {
        let settings = try resolve([])
        #expect(settings.first.port == 8089)
        #expect(settings.first.host == "0.0.0.0")
        #expect(settings.first.logLevel == .info)
        #expect(settings.second.kafka.bootstrapServers == "127.0.0.1:9092")
        #expect(settings.second.kafka.clientID == "testsvc")
        #expect(settings.second.token == nil)
        #expect(settings.second.batchSize == 1000)
        #expect(!settings.second.loop)
    }

    @Test func environmentOverridesDefaultsAndFlagsOverrideEnvironment() throws {
        let environment = [
            "PORT": "9000", "LOG_LEVEL": "debug", "KAFKA_BROKERS": "env:9092", "KAFKA_ACKS": "all",
            "TEST_BATCH_SIZE": "10", "TEST_LOOP": "yes", "TEST_TOKEN": "t0",
        ]
        let fromEnvironment = try resolve([], environment)
        #expect(fromEnvironment.first.port == 9000)
        #expect(fromEnvironment.first.logLevel == .debug)
        #expect(fromEnvironment.second.kafka.bootstrapServers == "env:9092")
        #expect(fromEnvironment.second.kafka.properties["acks"] == "all")
        #expect(fromEnvironment.second.kafka.environmentPropertyNames == ["acks"])
        #expect(fromEnvironment.second.batchSize == 10)
        #expect(fromEnvironment.second.loop)
        #expect(fromEnvironment.second.token == "t0")

        let fromFlags = try resolve(
            [
                "--port", "9100", "--log-level=error", "--kafka-brokers", "flag:9092",
                "--kafka-property", "acks=1", "--kafka-property", "socket.timeout.ms=5000",
                "--batch-size", "20", "--loop=false", "--token", "t1",
            ], environment)
        #expect(fromFlags.first.port == 9100)
        #expect(fromFlags.first.logLevel == .error)
        #expect(fromFlags.second.kafka.bootstrapServers == "flag:9092")
        #expect(fromFlags.second.kafka.properties == ["acks": "1", "socket.timeout.ms": "5000"])
        #expect(fromFlags.second.kafka.environmentPropertyNames.isEmpty)
        #expect(fromFlags.second.batchSize == 20)
        #expect(!fromFlags.second.loop)
        #expect(fromFlags.second.token == "t1")
        #expect(try resolve(["--loop"]).second.loop)
    }

    @Test func anInvalidValueNamesTheSettingButNotTheValue() throws {
        func message(_ arguments: [String], _ environment: [String: String] = [:]) -> String? {
            do {
                _ = try resolve(arguments, environment)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let port = message([], ["PORT": "secret-looking-value"])
        #expect(port == "--port / PORT must be a TCP port (0-65535)")
        #expect(message(["--port", "70000"]) == "--port / PORT must be a TCP port (0-65535)")
        #expect(message([], ["LOG_LEVEL": "loud"])?.hasPrefix("--log-level / LOG_LEVEL must be one of trace") == true)
        #expect(message(["--kafka-property", "novalue"]) == "--kafka-property expects name=value")
        #expect(message(["--batch-size", "0"]) == "--batch-size / TEST_BATCH_SIZE must be between 1 and 50000")
        #expect(message(["--loop", "--batch-size", "1"]) == "--loop needs --batch-size above 1")
        #expect(message(["--no-such", "1"]) == "unknown option '--no-such'")
        #expect(message(["stray"])?.hasPrefix("unexpected argument 'stray'") == true)
        #expect(message(["--batch-size"]) == "--batch-size needs a value")
    }

    @Test func helpListsEverySettingWithItsEnvironmentVariableAndDefault() {
        let help = SettingsArguments.discussion(service, TestSettings())
        // Lines are wrapped to 78 columns: compare with the wrapping undone.
        let words = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 78 })
        for expected in [
            "--port <port>", "[env: PORT]", "(default: 8089)", "--host", "[env: HOST]", "(default: 0.0.0.0)",
            "--log-level", "[env: LOG_LEVEL]", "(default: info)", "--kafka-brokers", "[env: KAFKA_BROKERS]",
            "(default: 127.0.0.1:9092)", "--kafka-property <name=value>", "KAFKA_<PROPERTY>",
            "--batch-size <value>", "[env: TEST_BATCH_SIZE] (default: 1000)", "--loop Start over.",
            "[env: TEST_LOOP] (default: false)",
            "--show-settings",
        ] {
            #expect(words.contains(expected), "help lacks \(expected)")
        }
        #expect(help.contains("--token <value>\n      A secret. [env: TEST_TOKEN]\n"))
    }

    @Test func shownSettingsHideSecretsAndListEveryVariable() throws {
        let settings = try resolve([
            "--token", "hunter2", "--kafka-property", "sasl.password=pw", "--kafka-property", "acks=all",
        ])
        let shown = settings.shown()
        #expect(!shown.contains("hunter2") && !shown.contains("pw,") && !shown.hasSuffix("pw"))
        #expect(shown.contains("TEST_TOKEN=<set>\n"))
        #expect(shown.contains("KAFKA_<PROPERTY>=acks=all,sasl.password=<redacted>\n"))
        #expect(shown.contains("PORT=8089\n"))
        #expect(shown.contains("TEST_BATCH_SIZE=1000\n"))
        #expect(shown.hasSuffix("TEST_LOOP=false"))
        #expect(try resolve([]).shown().contains("TEST_TOKEN=\n"))
    }

    @Test func theCommandLineGlueTurnsErrorsIntoUsageErrors() throws {
        let arguments = try SettingsArguments.parse(["--batch-size", "0"])
        #expect(throws: ValidationError.self) {
            _ = try arguments.resolve(service, TestSettings(), command: TestCommand.self, environment: [:])
        }
        let good = try SettingsArguments.parse(["--port", "1234"])
        #expect(
            try good.resolve(service, TestSettings(), command: TestCommand.self, environment: [:]).service.port == 1234)
    }
}

private struct TestCommand: ParsableCommand {}
