// Folds bursts into windows: anomalies of one device (or critical lines of one log source)
// arriving within a window of the first become one group; when the window of a channel
// closes, its groups go to the incident book, which folds each into its incident (or many new
// ones into one fleet-wide digest). Nothing is dropped: every alert and its position is carried
// along, so its offset is stored only once the message covering it is out.
import Events
import Foundation

/// One anomalous event as the notifier needs it.
struct AnomalyAlert: Sendable, Equatable {
    enum Kind: String, Sendable { case reading, log }

    var id: String
    var ts: String
    var kind: Kind
    /// Device id, or log source.
    var subject: String
    var score: Double
    var severity: Severity
    var model: String
    /// Readings: the three values; logs: the line (as sent, at most 8 KiB).
    var detail: String
    /// Why the scorer flagged it: the detector, then the channels against the device's normal
    /// ("vibration 0.0500 g, expected 0.0200 ± 0.0030 (10.0σ)"); nil when the scorer gave none.
    var why: String?
    /// The device's episode it belongs to.
    var episode: String?
    /// The channels the explanation names, against the device's own normal.
    var findings: [Incident.Peak]
    /// A log line's template (`LogTemplateRef.id`), as the scorer mined its source's lines.
    var template: String?

    init(_ scored: ScoredEvent) {
        id = scored.event.id
        ts = scored.event.ts
        score = scored.score
        severity = scored.severity
        model = scored.model
        why = scored.explanation.map(Self.describe)
        episode = scored.episode?.id
        template = scored.template?.id
        findings =
            scored.explanation?.channels.map {
                Incident.Peak(channel: $0.name, value: $0.value, expected: $0.expected, sigmas: $0.sigmas)
            } ?? []
        switch scored.event {
        case .reading(let reading):
            kind = .reading
            subject = reading.deviceID
            // A device of another profile may carry up to 64 channels: the first 8 are shown.
            let shown = reading.channels.prefix(8).map { "\($0.name) \($0.value)" }.joined(separator: ", ")
            let more = reading.channels.count > 8 ? " and \(reading.channels.count - 8) more" : ""
            let profile = reading.profile == Reading.defaultProfile ? "" : "\(reading.profile): "
            detail = profile + shown + more
        case .log(let log):
            kind = .log
            subject = log.source
            detail = log.message
        }
    }
}

extension AnomalyAlert {
    /// Units of the default profile's channels; other channels are shown bare.
    static let units = ["temperature": " °C", "pressure": " hPa", "vibration": " g"]

    /// "shift: pressure 1022 hPa, expected 1010 ± 3 (4.0σ); vibration ..." (at most three channels),
    /// or a log line's summary ("new template on db-1: ...").
    static func describe(_ explanation: Explanation) -> String {
        if let summary = explanation.summary { return summary }
        let channels = explanation.channels.prefix(3).map { channel in
            // As many decimals as the spread needs for two significant digits.
            let decimals = channel.spread > 0 ? min(max(1 - Int(log10(channel.spread).rounded(.down)), 0), 6) : 2
            let unit = units[channel.name] ?? ""
            func number(_ value: Double) -> String { String(format: "%.\(decimals)f", value) }
            return "\(channel.name) \(number(channel.value))\(unit), expected \(number(channel.expected)) ± "
                + "\(number(channel.spread))\(unit) (\(String(format: "%.1f", channel.sigmas))σ)"
        }
        return "\(explanation.detector): " + (channels.isEmpty ? "no channel named" : channels.joined(separator: "; "))
    }
}

extension Severity: Comparable {
    private var rank: Int {
        switch self {
        case .none: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

struct AlertGroup: Sendable {
    struct Key: Hashable, Sendable {
        var kind: AnomalyAlert.Kind
        var subject: String
    }

    var key: Key
    /// The alerts in arrival order, each with its input position.
    var alerts: [AnomalyAlert] = []
    var positions: [KafkaPosition] = []

    /// Log lines quoted in a message.
    static let maxSamples = 3

    init(_ alert: AnomalyAlert) {
        key = Key(kind: alert.kind, subject: alert.subject)
    }

    var count: Int { alerts.count }

    mutating func add(_ alert: AnomalyAlert, at position: KafkaPosition) {
        alerts.append(alert)
        positions.append(position)
    }
}

/// A channel's window, closed: its groups in first-seen order.
struct ClosedWindow: Sendable {
    var channel: String
    var groups: [AlertGroup]
}

struct AlertGrouper: Sendable {
    private struct Window {
        var openedAt: ContinuousClock.Instant
        var groups: [AlertGroup.Key: AlertGroup] = [:]
        /// Keys in first-seen order, so messages come out in a stable order.
        var order: [AlertGroup.Key] = []
    }

    let window: Duration
    private var windows: [String: Window] = [:]

    /// Alerts held in open windows.
    private(set) var heldCount = 0

    init(window: Duration) {
        self.window = window
    }

    mutating func add(_ alert: AnomalyAlert, channel: String, at position: KafkaPosition, now: ContinuousClock.Instant)
    {
        // Changed in place: copying a window out and back would copy its groups on every alert.
        let key = AlertGroup.Key(kind: alert.kind, subject: alert.subject)
        if windows[channel] == nil { windows[channel] = Window(openedAt: now) }
        if windows[channel]!.groups[key] == nil {
            windows[channel]!.groups[key] = AlertGroup(alert)
            windows[channel]!.order.append(key)
        }
        windows[channel]!.groups[key]!.add(alert, at: position)
        heldCount += 1
    }

    /// Takes one subject's group out of its open window at once (its episode ended: what it
    /// holds must be counted before the incident resolves).
    mutating func take(kind: AnomalyAlert.Kind, subject: String) -> ClosedWindow? {
        let key = AlertGroup.Key(kind: kind, subject: subject)
        for (channel, open) in windows {
            guard let group = open.groups[key] else { continue }
            windows[channel]!.groups[key] = nil
            windows[channel]!.order.removeAll { $0 == key }
            if windows[channel]!.order.isEmpty { windows[channel] = nil }
            heldCount -= group.count
            return ClosedWindow(channel: channel, groups: [group])
        }
        return nil
    }

    /// Every window that has closed by `now`, in the order their
    /// channels' windows opened. A window stays open past its time while `holding` says its
    /// channel is busy; `closeAll` (shutdown) closes every window regardless.
    mutating func takeClosed(
        now: ContinuousClock.Instant, closeAll: Bool = false,
        holding: (String) -> Bool = { _ in false }
    ) -> [ClosedWindow] {
        let closed = windows.filter { closeAll || (now - $0.value.openedAt >= window && !holding($0.key)) }
            .sorted { $0.value.openedAt < $1.value.openedAt }
        var windowsClosed: [ClosedWindow] = []
        for (channel, open) in closed {
            windows[channel] = nil
            let groups = open.order.map { open.groups[$0]! }
            heldCount -= groups.reduce(0) { $0 + $1.count }
            windowsClosed.append(ClosedWindow(channel: channel, groups: groups))
        }
        return windowsClosed
    }
}
