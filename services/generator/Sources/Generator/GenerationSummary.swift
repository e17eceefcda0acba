// What a run came to, as the summary printed at its end and the progress lines printed while
// it runs (stderr, every few seconds, when asked or when stderr is a terminal).
import Foundation

package struct GenerationSummary: Sendable, CustomStringConvertible {
    var target: String
    /// Events the target acknowledged, by label.
    var delivered = EventTally()
    /// Events given up at shutdown (not acknowledged within the drain timeout) or after a fatal error.
    package var undelivered = 0
    /// Failed attempts to deliver a batch; all but fatal ones were retried.
    var failedAttempts = 0
    var elapsed: Duration = .zero

    package var description: String {
        let seconds = Self.seconds(elapsed)
        let rate = seconds > 0 ? Double(delivered.total) / seconds : 0
        var lines = [
            String(format: "sent %d events to %@ in %.2f s (%.0f events/s)", delivered.total, target, seconds, rate)
        ]
        if delivered.readings > 0 {
            let kinds = AnomalyKind.allCases.map { "\($0.rawValue) \(delivered[EventLabel($0)])" }.joined(
                separator: ", ")
            lines.append(
                "  readings: \(delivered.readings) (\(delivered[.normalReading]) normal, "
                    + "\(delivered.anomalousReadings) anomalous: \(kinds))"
            )
        }
        if delivered.logs > 0 {
            var parts = ["\(delivered[.routineLog]) routine", "\(delivered[.criticalLog]) critical"]
            if delivered[.unlabeledLog] > 0 { parts.append("\(delivered[.unlabeledLog]) unlabeled") }
            lines.append("  log lines: \(delivered.logs) (\(parts.joined(separator: ", ")))")
        }
        lines.append("  failed attempts (retried): \(failedAttempts), undelivered: \(undelivered)")
        return lines.joined(separator: "\n")
    }

    /// One progress line: totals so far and the current rate.
    func progressLine(currentRate: Double) -> String {
        String(
            format:
                """
                generator: %d events acknowledged (%d anomalous readings, %d critical log lines), %.0f/s now, %d \
                failed attempts
                """,
            delivered.total, delivered.anomalousReadings, delivered[.criticalLog], currentRate, failedAttempts)
    }

    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
