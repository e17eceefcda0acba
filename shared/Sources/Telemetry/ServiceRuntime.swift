// One way for every service to start: logging and metrics bootstrapped once, a router that
// already serves /metrics, /healthz and /readyz, and an application whose ServiceGroup
// shuts down in reverse order on SIGTERM or SIGINT.
import enum Events.JSONString
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

public struct ServiceRuntime: Sendable {
    public let settings: ServiceSettings
    public let logger: Logger
    public let registry: PrometheusCollectorRegistry
    public let readiness: ReadinessChecks
    /// Where the service's own metrics come from (`*Metrics` are built on it).
    public let metrics: MetricHandles
    /// Scrapes of `registry`'s /metrics, which counters made at run time wait for (CountersFromZero).
    public let scrapeClock: ScrapeClock

    /// For tests and embedding: nothing global is touched. Without a factory, the service's
    /// metrics go to this runtime's own registry, so its /metrics shows them; a test that
    /// reads what was counted passes swift-metrics' TestMetrics.
    public init(
        settings: ServiceSettings, logger: Logger,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        readiness: ReadinessChecks = ReadinessChecks(), metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.settings = settings
        self.logger = logger
        self.registry = registry
        self.readiness = readiness
        scrapeClock = ScrapeClock(hold: .seconds(settings.scrapeIntervalSeconds))
        let factory = metricsFactory ?? DocumentedMetricsFactory(registry: registry, catalog: .common)
        // Only a registry that /metrics renders is scraped; TestMetrics counts at once.
        metrics = MetricHandles(
            factory: factory, scrapeClock: factory is DocumentedMetricsFactory ? scrapeClock : nil)
    }

    /// For an executable's `run()`: installs JSON logging and the Prometheus metrics backend
    /// for the whole process. Call once, before creating Kafka clients or models.
    public static func bootstrap(
        _ settings: ServiceSettings, metrics catalog: MetricsCatalog = .common
    ) -> ServiceRuntime {
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let registry = PrometheusCollectorRegistry()
        let factory = DocumentedMetricsFactory(registry: registry, catalog: MetricsCatalog.common.merging(catalog))
        MetricsSystem.bootstrap(factory)
        var logger = Logger(label: settings.serviceName)
        logger.logLevel = level
        return ServiceRuntime(settings: settings, logger: logger, registry: registry, metricsFactory: factory)
    }

    /// A router with the observability endpoints; add the service's own routes to it.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        ObservabilityRoutes(registry: registry, readiness: readiness, scrapeClock: scrapeClock).register(on: router)
        return router
    }

    /// The HTTP application with the service's long-running parts. `services` are listed in
    /// dependency order (Kafka clients, then workers); shutdown stops HTTP first, then the
    /// workers, then the clients, each after the previous one's `run()` has returned.
    /// `onListening` gets the bound port (tests that ask for port 0 learn the real one).
    public func makeApplication(
        router: Router<BasicRequestContext>, services: [any Service] = [],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(
                address: .hostname(settings.host, port: settings.port), serverName: settings.serviceName),
            services: services,
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}

/// /metrics (Prometheus text format), /healthz (alive) and /readyz (all checks pass).
public struct ObservabilityRoutes: Sendable {
    /// How long /readyz waits for its checks: half a Kubernetes probe's default timeout of
    /// 1 s, so a hung check makes the probe read "not ready" rather than time out itself.
    public static let readinessDeadline: Duration = .milliseconds(500)

    let registry: PrometheusCollectorRegistry
    let readiness: ReadinessChecks
    let process: ProcessMetrics
    let scrapeClock: ScrapeClock

    public init(registry: PrometheusCollectorRegistry, readiness: ReadinessChecks, scrapeClock: ScrapeClock) {
        self.registry = registry
        self.readiness = readiness
        self.scrapeClock = scrapeClock
        process = ProcessMetrics(registry: registry)
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/metrics") { _, _ -> Response in
            process.update()
            let scrape = scrapeClock.starting()
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            scrapeClock.finished(scrape)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/healthz") { _, _ -> Response in
            Self.json(.ok, #"{"status":"ok"}"#)
        }
        router.get("/readyz") { _, _ -> Response in
            let report = await readiness.evaluate(timeout: Self.readinessDeadline)
            var body: [UInt8] = Array(#"{"status":"#.utf8)
            JSONString.append(report.isReady ? "ready" : "not ready", to: &body)
            body.append(contentsOf: #","checks":{"#.utf8)
            for (index, (name, result)) in report.results.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                JSONString.append(name, to: &body)
                body.append(UInt8(ascii: ":"))
                JSONString.append(result, to: &body)
            }
            body.append(contentsOf: "}}".utf8)
            return Self.json(report.isReady ? .ok : .serviceUnavailable, String(decoding: body, as: UTF8.self))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
