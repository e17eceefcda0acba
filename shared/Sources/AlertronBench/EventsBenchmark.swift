// Measures the scorer's codec path (decode a reading, encode it scored) against Foundation Codable.

import Events
import Models
import Foundation

/// Decodes `count` pre-generated ~200-byte reading events and encodes each as a scored event,
/// single-threaded, once with Foundation's JSONDecoder/JSONEncoder on a Codable mirror and
/// once with `EventCodec` and one reused `EventWriter`. Each side runs three times after a
/// warm-up; the best run counts.
func runEventsBenchmark(count: Int) -> [BenchResult] {
    let payloads = makeReadingPayloads(count: max(count, 1))
    let averageBytes = payloads.reduce(0) { $0 + $1.count } / payloads.count
    let scoredAt = "2026-11-21T07:04:50.123Z"

    let foundation = bestRate(events: payloads.count) {
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        var written = 0
        for payload in payloads {
            do {
                let reading = try decoder.decode(CodableReading.self, from: Data(payload))
                let verdict = Verdict(temperature: reading.temperature)
                let scored = CodableScoredReading(
                    reading: reading, score: verdict.score, anomaly: verdict.anomaly,
                    severity: verdict.severity.rawValue, model: "iforest@3", scoredAt: scoredAt
                )
                written &+= try encoder.encode(scored).count
            } catch {
                fatalError("benchmark input failed to round-trip through Foundation: \(error)")
            }
        }
        return written
    }

    let codec = bestRate(events: payloads.count) {
        var writer = EventWriter(capacity: 512)
        var written = 0
        for payload in payloads {
            do {
                let event = try payload.withUnsafeBytes { (raw) throws(EventError) in
                    try EventCodec.decodeInbound(raw)
                }
                guard case .reading(let reading) = event else { continue }
                let verdict = Verdict(temperature: reading.channels[0].value)
                writer.reset()
                writer.write(
                    ScoredEvent(
                        event: event, score: verdict.score, anomaly: verdict.anomaly,
                        severity: verdict.severity, model: "iforest@3", scoredAt: scoredAt
                    ))
                written &+= writer.bytes.count
            } catch {
                fatalError("benchmark input failed to decode: \(error)")
            }
        }
        return written
    }

    return [
        BenchResult(
            name: "events.foundation-codable",
            perSecond: foundation,
            note: "JSONDecoder + JSONEncoder (Codable mirror), \(payloads.count) readings of ~\(averageBytes) bytes"
        ),
        BenchResult(
            name: "events.codec",
            perSecond: codec,
            note: "EventCodec.decodeInbound + EventWriter.write(ScoredEvent), "
                + String(format: "%.1fx the Foundation baseline", codec / foundation)
        ),
    ]
}

/// Events per second of the best of three timed runs of `body`, after one warm-up run.
private func bestRate(events: Int, _ body: () -> Int) -> Double {
    let clock = ContinuousClock()
    var sink = body()
    var best = Duration.seconds(Int64.max)
    for _ in 0..<3 {
        let elapsed = clock.measure { sink &+= body() }
        best = min(best, elapsed)
    }
    // Keeps the work observable so the optimizer cannot drop it.
    if sink == 42 { print("") }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    return Double(events) / seconds
}

/// A stand-in for the model, cheap enough not to dominate the measurement.
private struct Verdict {
    let score: Double
    let anomaly: Bool
    let severity: Severity

    init(temperature: Double) {
        score = min(1, abs(temperature - 21) / 40)
        anomaly = score > 0.6
        severity = score > 0.8 ? .critical : (anomaly ? .warning : .none)
    }
}

/// Readings as a fleet sends them: a few hundred devices of several families, values with
/// one to three decimals, and one in five at full precision as a float formatter writes it.
private func makeReadingPayloads(count: Int) -> [[UInt8]] {
    var rng = SplitMix64(seed: 0xA1E7_0200)
    let families = ["pump", "compressor-eu-west", "turbine", "hvac-floor-3", "boiler"]
    let devices = (0..<500).map { "\(families[$0 % families.count])-\(String(format: "%04d", $0))" }
    return (0..<count).map { i in
        func value(_ center: Double, _ spread: Double, decimals: Int) -> Double {
            let raw = center + (rng.unit() * 2 - 1) * spread
            if rng.next() % 5 == 0 { return raw }
            let scale = [10.0, 100.0, 1000.0][decimals - 1]
            return (raw * scale).rounded() / scale
        }
        let reading = Reading(
            id: uuid(&rng),
            ts: timestamp(eventNumber: i),
            deviceID: devices[Int(rng.next() % UInt64(devices.count))],
            temperature: value(21, 15, decimals: 2),
            pressure: value(1013, 20, decimals: 1),
            vibration: value(0.05, 0.05, decimals: 3)
        )
        return EventWriter.encode(.reading(reading))
    }
}

private func uuid(_ rng: inout SplitMix64) -> String {
    func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
    let digits = Array(hex(rng.next()) + hex(rng.next()))
    return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
}

/// Timestamps 37 ms apart within one day, as a generator writes them.
private func timestamp(eventNumber i: Int) -> String {
    let ms = i * 37 % 86_400_000
    return String(
        format: "2026-11-21T%02d:%02d:%02d.%03dZ",
        ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000
    )
}

// The Codable mirror of the same JSON, as a service would write it without EventCodec.
private struct CodableReading: Codable {
    var schema: Int
    var kind: String
    var id: String
    var ts: String
    var deviceID: String
    var temperature: Double
    var pressure: Double
    var vibration: Double

    enum CodingKeys: String, CodingKey {
        case schema, kind, id, ts, temperature, pressure, vibration
        case deviceID = "device_id"
    }
}

private struct CodableScoredReading: Encodable {
    var reading: CodableReading
    var score: Double
    var anomaly: Bool
    var severity: String
    var model: String
    var scoredAt: String

    enum CodingKeys: String, CodingKey {
        case score, anomaly, severity, model
        case scoredAt = "scored_at"
    }

    func encode(to encoder: any Encoder) throws {
        try reading.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(score, forKey: .score)
        try container.encode(anomaly, forKey: .anomaly)
        try container.encode(severity, forKey: .severity)
        try container.encode(model, forKey: .model)
        try container.encode(scoredAt, forKey: .scoredAt)
    }
}
