// The mesh's topic names, the contract of ../shared/DESIGN.md, in one place: services take
// their defaults from here and the development broker creates these.

public enum Topic {
    public static let readings = "readings"
    public static let scored = "scored"
    public static let anomalies = "anomalies"
    /// Alertmanager's notifications, stored by the notifier's webhook before it answers.
    public static let alertmanager = "alertmanager"
    /// Each device's detection state, keyed by device id, written beside the `readings`
    /// partition it belongs to (compacted: the latest state of every device is kept).
    public static let scorerState = "scorer.state"
    /// People's verdicts from Slack ("not an anomaly"), keyed by device id or log source: the
    /// scorer reads them beside `readings` (same partition count, same keys).
    public static let feedback = "feedback"
    /// Which Slack message each incident has and its acknowledgement and silence, keyed by
    /// incident (compacted: the notifier's replicas and restarts read it back).
    public static let notifierIncidents = "notifier.incidents"

    /// Where messages of `topic` that cannot be processed go, each with the reason.
    public static func deadLetters(of topic: String) -> String { topic + ".dlq" }

    /// Every topic of the mesh, their dead-letter topics, then the services' own state.
    public static let all: [String] = {
        let main = [readings, scored, anomalies, alertmanager]
        return main + main.map(deadLetters(of:)) + [
            feedback, deadLetters(of: feedback), scorerState, notifierIncidents,
        ]
    }()
}
