// The scorer's metrics, read back through swift-metrics' TestMetrics: what a batch came to,
// device_id labels capped so a large fleet cannot blow up Prometheus, and every series made at
// 0 as soon as its labels are known (Prometheus' increase() cannot see a series' first value).
import AlertronTesting
import Events
import MetricsTestKit
import Telemetry
import Testing
@testable import Scorer

@Suite struct ScorerMetricsTests {
    @Test func aBatchIsCountedAndDevicesBeyondTheCapFoldIntoOther() throws {
        let test = TestMetrics()
        let metrics = ScorerMetrics(MetricHandles(factory: test), deviceLabelCap: 2)
        // Before any reading: the fixed series exist at 0.
        #expect(test.counters(label: "anomaly_count_total").count == 2, "each severity of _other")
        for reason in ["empty_message", "malformed_json", "missing_field", "unsupported_schema"] {
            #expect(
                test.counters(label: "alertron_scorer_dead_letters_total").contains { $0.dimensions[0].1 == reason })
        }
        #expect(test.counters(label: "alertron_scorer_model_reload_failures_total").count == 2)
        var outcome = BatchScorer.Outcome()
        outcome.scored = 5
        outcome.originReadings = 4
        // Seen in this batch: the first two get their own series, at 0 before they count.
        outcome.newDevices = ["edge-1", "edge-2", "edge-3"]
        outcome.anomalies = [
            (.critical, "edge-1", 0.9), (.warning, "edge-2", 0.7), (.critical, "edge-3", 0.8),
            (.critical, "edge-1", 0.95),
        ]
        outcome.deadLetters = ["malformed_json": 2]
        (outcome.episodesOpened, outcome.episodesClosed) = (3, 1)
        (outcome.devicesLearning, outcome.devicesJudged) = (40, 10)
        metrics.record(outcome, batchSize: 7)
        metrics.record(BatchScorer.Outcome(scored: 1), batchSize: 1)

        #expect(test.total("predictions_total") == 6)
        #expect(
            test.total("anomaly_count_total", ("severity", "critical"), ("device_id", "edge-1")) == 2)
        #expect(
            test.total("anomaly_count_total", ("severity", "warning"), ("device_id", "edge-2"))
                == 1)
        #expect(
            test.total("anomaly_count_total", ("severity", "critical"), ("device_id", "_other")) == 1)
        #expect(
            test.total("anomaly_count_total", ("severity", "critical"), ("device_id", "edge-2")) == 0)
        #expect(test.counters(label: "anomaly_count_total").count == 6, "2 severities of edge-1, edge-2, _other")
        #expect(test.total("alertron_scorer_origin_readings_total") == 4)
        #expect(
            test.total("alertron_scorer_dead_letters_total", ("reason", "malformed_json")) == 2
        )
        #expect(try test.expectGauge("last_anomaly_score", [("device_id", "edge-1")]).lastValue == 0.95)
        #expect(try test.expectGauge("last_anomaly_score", [("device_id", "edge-2")]).lastValue == 0.7)
        #expect(try test.expectGauge("last_anomaly_score", [("device_id", "_other")]).lastValue == 0.8)
        #expect(try test.expectRecorder("alertron_scorer_batch_events").values == [7, 1])
        #expect(test.total("alertron_scorer_episodes_total", ("event", "opened")) == 3)
        #expect(test.total("alertron_scorer_episodes_total", ("event", "closed")) == 1)
        // The second batch's outcome carries no device counts: the gauges show the last ones.
        #expect(try test.expectGauge("alertron_scorer_devices", [("state", "learning")]).lastValue == 0)
        #expect(try test.expectGauge("alertron_scorer_devices", [("state", "judging")]).values.first == 10)
    }

    @Test func aReloadMarksTheOldVersionZeroAndTheNewOne() throws {
        let test = TestMetrics()
        let metrics = ScorerMetrics(MetricHandles(factory: test))
        metrics.modelLoaded(kind: "sensor", version: "a", replacing: nil)
        metrics.modelLoaded(kind: "sensor", version: "b", replacing: "a")
        metrics.modelReloadFailed(kind: "log")
        #expect(
            try test.expectGauge("alertron_scorer_model_info", [("model", "sensor"), ("version", "a")]).lastValue == 0)
        #expect(
            try test.expectGauge("alertron_scorer_model_info", [("model", "sensor"), ("version", "b")]).lastValue == 1)
        #expect(
            test.total("alertron_scorer_model_reload_failures_total", ("model", "log")) == 1)
    }
}
