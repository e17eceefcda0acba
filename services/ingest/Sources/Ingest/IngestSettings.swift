// The ingest service's own settings (beyond the common ones): flags with environment fallbacks.
import ArgumentParser
import Events
import Telemetry

struct IngestOptions: ParsableArguments {
    @Option(help: "Bearer token every request to the ingest routes must carry; unset: no token needed. [env: INGEST_TOKEN]")
    var token: String?

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (413 beyond). [env: INGEST_MAX_BODY_BYTES] (default: 4194304)")
    var maxBodyBytes: Int?

    @Option(name: .customLong("max-events"), help: "Most events in one request (413 beyond). [env: INGEST_MAX_EVENTS] (default: 10000)")
    var maxEvents: Int?

    @Option(name: .customLong("ack-timeout-ms"),
            help: "How long a request waits for the broker to acknowledge its events before answering 503. [env: INGEST_ACK_TIMEOUT_MS] (default: 5000)")
    var ackTimeoutMilliseconds: Int?

    @Option(help: "Topic readings and log lines are produced to. [env: INGEST_TOPIC] (default: readings)")
    var topic: String?

    func resolve() throws -> IngestSettings {
        let settings = IngestSettings(
            token: Setting.resolve(token, env: "INGEST_TOKEN"),
            maxBodyBytes: try Setting.resolve(maxBodyBytes, env: "INGEST_MAX_BODY_BYTES", default: 4 << 20),
            maxEvents: try Setting.resolve(maxEvents, env: "INGEST_MAX_EVENTS", default: 10_000),
            ackTimeoutMilliseconds: try Setting.resolve(ackTimeoutMilliseconds, env: "INGEST_ACK_TIMEOUT_MS", default: 5_000),
            topic: try Setting.resolve(topic, env: "INGEST_TOPIC", default: Topic.readings))
        guard settings.maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes / INGEST_MAX_BODY_BYTES must be positive") }
        // The producer's local queue (100k messages) must hold a whole request.
        guard (1...100_000).contains(settings.maxEvents) else {
            throw ValidationError("--max-events / INGEST_MAX_EVENTS must be between 1 and 100000")
        }
        guard settings.ackTimeoutMilliseconds >= 100 else {
            throw ValidationError("--ack-timeout-ms / INGEST_ACK_TIMEOUT_MS must be at least 100")
        }
        return settings
    }
}

/// Resolved ingest settings.
struct IngestSettings: Sendable {
    /// nil: the routes need no token.
    var token: String?
    var maxBodyBytes = 4 << 20
    var maxEvents = 10_000
    var ackTimeoutMilliseconds = 5_000
    var topic = Topic.readings
}
