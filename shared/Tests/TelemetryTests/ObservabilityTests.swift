// /metrics, /healthz and /readyz as every service serves them, and the JSON log format.
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import Prometheus
import Testing
@testable import Telemetry

@Suite struct ObservabilityTests {
    private func runtime(_ readiness: ReadinessChecks = ReadinessChecks()) -> ServiceRuntime {
        ServiceRuntime(
            settings: ServiceSettings(serviceName: "testsvc"), logger: Logger(label: "test"), readiness: readiness)
    }

    @Test func healthzAnswersWhileReadyzWaitsForEveryCheck() async throws {
        let readiness = ReadinessChecks()
        let kafkaUp = Locked(false)
        readiness.add("kafka") { if !kafkaUp.value { throw TestFailure("broker unreachable") } }
        let runtime = runtime(readiness)
        let app = runtime.makeApplication(router: runtime.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(body.contains(#""kafka":"broker unreachable""#))
            }
            kafkaUp.value = true
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ready","checks":{"kafka":"ok"}}"#)
            }
        }
    }

    @Test func aCheckThatHangsFailsAfterTheTimeout() async {
        let readiness = ReadinessChecks()
        readiness.add("slow") { try await Task.sleep(for: .seconds(30)) }
        readiness.add("fast") {}
        let start = ContinuousClock.now
        let report = await readiness.evaluate(timeout: .milliseconds(200))
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(!report.isReady)
        #expect(report.results["fast"] == "ok")
        #expect(report.results["slow"]?.contains("timed out") == true)
    }

    @Test func metricsFromSwiftMetricsAreExportedWithHelpTextFromTheCatalog() async throws {
        let runtime = runtime()
        let catalog = MetricsCatalog(help: ["alertron_test_requests_total": "Requests served by the test."])
        let factory = DocumentedMetricsFactory(
            registry: runtime.registry, catalog: MetricsCatalog.common.merging(catalog))
        // A factory-built counter, as a library using only swift-metrics would create it.
        let counter = Counter(label: "alertron_test_requests_total", dimensions: [("route", "/x")], factory: factory)
        counter.increment(by: 3)
        let app = runtime.makeApplication(router: runtime.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let body = String(buffer: response.body)
                #expect(body.contains("# HELP alertron_test_requests_total Requests served by the test."))
                #expect(body.contains(#"alertron_test_requests_total{route="/x"} 3"#))
                #expect(body.contains("# TYPE process_resident_memory_bytes gauge"))
            }
        }
    }

    @Test func logLinesAreJSONObjectsWithMetadataAndEscapedText() throws {
        let lines = Locked<[[UInt8]]>([])
        var handler = JSONLogHandler(label: "testsvc", level: .info) { line in lines.withLock { $0.append(line) } }
        handler[metadataKey: "service"] = "testsvc"
        var logger = Logger(label: "testsvc") { _ in handler }
        logger.logLevel = .info
        logger.info("quote \" and newline \n done", metadata: ["partition": "3"])
        logger.debug("below the level")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        #expect(written[0].last == UInt8(ascii: "\n"))
        let object = try JSONSerialization.jsonObject(with: Data(written[0])) as? [String: String]
        #expect(object?["msg"] == "quote \" and newline \n done")
        #expect(object?["level"] == "info")
        #expect(object?["logger"] == "testsvc")
        #expect(object?["partition"] == "3")
        #expect(object?["service"] == "testsvc")
        #expect(object?["ts"].map { $0.hasSuffix("Z") && $0.count == 24 } == true)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A value shared with a @Sendable closure in a test.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&stored) } }
}
