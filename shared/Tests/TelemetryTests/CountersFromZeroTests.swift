// Series born at run time are first scraped at 0, so Prometheus' increase() sees their first
// counts: read through the real /metrics route, as Prometheus scrapes it.
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Telemetry

@Suite struct CountersFromZeroTests {
    /// The sample of `series` (name and labels as rendered) on /metrics, nil when absent.
    private func scrape(_ client: some TestClientProtocol, _ series: String) async throws -> Double? {
        try await client.execute(uri: "/metrics", method: .get) { response in
            String(buffer: response.body).split(separator: "\n")
                .first { $0.hasPrefix(series + " ") }
                .flatMap { Double($0.split(separator: " ").last!) }
        }
    }

    private func runtime(scrapeInterval: Int) -> ServiceRuntime {
        var settings = ServiceSettings(serviceName: "testsvc")
        settings.scrapeIntervalSeconds = scrapeInterval
        return ServiceRuntime(settings: settings, logger: Logger(label: "test"))
    }

    @Test func aSeriesBornWithCountsIsScrapedAtZeroFirstThenWithAllOfThem() async throws {
        let runtime = runtime(scrapeInterval: 0)
        let counts = CountersFromZero("alertron_test_events_total", handles: runtime.metrics)
        let edge1 = #"alertron_test_events_total{device_id="edge-1"}"#
        let edge2 = #"alertron_test_events_total{device_id="edge-2"}"#
        let app = runtime.makeApplication(router: runtime.makeRouter())
        try await app.test(.router) { client in
            // A burst from a device no scrape has shown: held back.
            counts.increment([("device_id", "edge-1")], by: 10)
            let edge1At0 = try await scrape(client, edge1)
            #expect(edge1At0 == 0)
            // That scrape showed it: what it held lands, and later counts land at once.
            let edge1At10 = try await scrape(client, edge1)
            #expect(edge1At10 == 10)
            counts.increment([("device_id", "edge-1")], by: 2)
            let edge1At12 = try await scrape(client, edge1)
            #expect(edge1At12 == 12)
            // Declared (first seen) before a scrape: counts after that scrape land at once.
            counts.declare([("device_id", "edge-2")])
            let edge2At0 = try await scrape(client, edge2)
            #expect(edge2At0 == 0)
            counts.increment([("device_id", "edge-2")], by: 5)
            let edge2At5 = try await scrape(client, edge2)
            #expect(edge2At5 == 5)
        }
    }

    @Test func aSeriesShowsZeroForAScrapeIntervalSoEveryScraperSeesIt() async throws {
        // Two Prometheus servers (an HA pair) scraping every 60 s: the first scrape must not
        // release the counts before the second server has seen the 0.
        let runtime = runtime(scrapeInterval: 60)
        let counts = CountersFromZero("alertron_test_events_total", handles: runtime.metrics)
        let edge1 = #"alertron_test_events_total{device_id="edge-1"}"#
        let app = runtime.makeApplication(router: runtime.makeRouter())
        try await app.test(.router) { client in
            counts.increment([("device_id", "edge-1")], by: 10)
            for _ in 0..<3 {
                let shown = try await scrape(client, edge1)
                #expect(shown == 0)
            }
        }
    }

    @Test func withoutAScrapedRegistryCountsLandAtOnce() {
        // What a unit test reading TestMetrics gets: no /metrics, nothing held back.
        let handles = MetricHandles(factory: DocumentedMetricsFactory(registry: .init(), catalog: .common))
        let counts = CountersFromZero("alertron_test_events_total", handles: handles)
        counts.increment([("device_id", "edge-1")], by: 3)
        var text: [UInt8] = []
        (handles.factory as! DocumentedMetricsFactory).registry.emit(into: &text)
        #expect(String(decoding: text, as: UTF8.self).contains(#"alertron_test_events_total{device_id="edge-1"} 3"#))
    }
}
