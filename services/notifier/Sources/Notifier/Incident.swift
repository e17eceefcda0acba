// An incident: what one Slack message is about, from its first alert to its resolution. A
// device's episode, a log source's burst, a fleet-wide burst (digest) or an Alertmanager group.
// It keeps what its message shows (count, worst reading, channels at fault, peaks, who did
// what) and which message it has, and is stored as JSON in the compacted `notifier.incidents`
// topic so a restarted notifier, or another replica, updates the same message.
import Events
import Foundation

struct Incident: Sendable, Codable, Equatable {
    enum Kind: String, Sendable, Codable {
        case device, log, digest, alertmanager
    }

    /// A message in Slack: the channel's ID (never its name) and the message's ts.
    struct MessageRef: Sendable, Codable, Equatable {
        var channel: String
        var ts: String
    }

    /// Who did something, and when (RFC 3339).
    struct Mark: Sendable, Codable, Equatable {
        var by: String
        var at: String
    }

    /// A device's (or log source's) channel at fault, at its worst.
    struct Peak: Sendable, Codable, Equatable {
        var channel: String
        var value: Double
        var expected: Double
        var sigmas: Double
    }

    /// The alert that scored highest.
    struct Worst: Sendable, Codable, Equatable {
        var id: String
        var ts: String
        var score: Double
        var detail: String
        var why: String?
        var model: String
    }

    var key: String
    var kind: Kind
    /// Device id, log source, alert name, or the digest's channel.
    var subject: String
    /// The channel (as routed) whose lane paces its messages.
    var channel: String
    var message: MessageRef?
    /// First and last alert (their own timestamps).
    var firstTS: String
    var lastTS: String
    var count = 0
    /// How many of `count` are log lines (a digest holds both).
    var logs = 0
    var severity: String = Severity.none.rawValue
    var worst: Worst?
    var peaks: [Peak] = []
    /// The first alerts' ids (for a "not an anomaly" verdict), at most `maxReadings`.
    var readings: [String] = []
    /// A log burst's first lines.
    var samples: [String] = []
    /// The templates of a log incident's lines (the first `maxTemplates`), for its "not an
    /// anomaly"; nil in records written before they were kept.
    var templates: [String]?
    var episode: String?
    /// A digest's subjects and their counts (the noisiest kept when there are many).
    var subjects: [String: Int] = [:]
    var alertmanager: AlertmanagerNotification?
    var acknowledged: Mark?
    var silenced: Mark?
    /// Until when (RFC 3339) a silence holds, and Alertmanager's silence id for a group.
    var silencedUntil: String?
    var silenceID: String?
    /// Over: by the scorer (episode closed), Alertmanager, or a person (`Mark.by` a Slack user).
    var resolved: Mark?
    var notAnomaly: Mark?
    /// When the last reminder went (RFC 3339); reminders stop once acknowledged.
    var remindedAt: String?
    /// When an alert was last counted in (wall clock, RFC 3339): a burst is over after it is quiet.
    var seenAt: String
    /// Counts every change written to the topic: a replica reading records back keeps the newer.
    var revision = 0
    /// The highest input offset counted in, by partition of the source topic.
    var counted: [String: Int64] = [:]
    /// Set when the record is read back (at start, after a rebalance): `counted` as it was
    /// written. Alerts redelivered after a crash, at or below it, are not counted twice. Within
    /// one process, repeats are dropped by event id before they get here, and alerts of one
    /// incident may arrive out of offset order (a digest's devices, two channels' windows), so
    /// the guard does not move with them.
    var replayGuard: [String: Int64]?

    static let maxReadings = 20
    static let maxPeaks = 8
    static let maxSubjects = 200
    static let maxTemplates = 10

    init(key: String, kind: Kind, subject: String, channel: String, ts: String) {
        (self.key, self.kind, self.subject, self.channel, firstTS, lastTS) = (key, kind, subject, channel, ts, ts)
        seenAt = Timestamp.now()
    }

    var isOpen: Bool { resolved == nil }
    var severityLevel: Severity { Severity(rawValue: severity) ?? .none }

    // MARK: Keys

    static func deviceKey(episode: String) -> String { "device:" + episode }
    static func deviceKey(device: String, firstID: String) -> String { "device:" + device + "/" + firstID }
    static func logKey(source: String, firstID: String) -> String { "log:" + source + "/" + firstID }
    static func digestKey(channel: String, firstID: String) -> String { "digest:" + channel + "/" + firstID }
    static func alertmanagerKey(groupKey: String) -> String { "alertmanager:" + groupKey }
    /// The key of a subject's mute record in the same topic.
    static func muteKey(_ subject: Feedback.Subject) -> String {
        switch subject {
        case .device(let id): "mute:device:" + id
        case .logSource(let source): "mute:log:" + source
        case .alertmanagerGroup(let groupKey): "mute:alertmanager:" + groupKey
        }
    }

    /// What a verdict on this incident is about.
    var feedbackSubject: Feedback.Subject {
        switch kind {
        case .device: .device(subject)
        case .log: .logSource(subject)
        case .digest: .logSource(subject)
        case .alertmanager: .alertmanagerGroup(alertmanager?.groupKey ?? subject)
        }
    }

    // MARK: Growing

    /// What changed when alerts were added, for the thread.
    struct Growth: Sendable, Equatable {
        var added = 0
        var severityRose = false
        var newChannels: [String] = []

        /// Worth a thread reply: something new, not just more of the same.
        var isNews: Bool { severityRose || !newChannels.isEmpty }
    }

    /// Counts a group of alerts in; alerts at or below `counted` are redeliveries, skipped.
    mutating func add(_ group: AlertGroup) -> Growth {
        var growth = Growth()
        let before = severityLevel
        for (alert, position) in zip(group.alerts, group.positions) {
            let partition = String(position.partition.partition)
            if let guarded = replayGuard?[partition], position.offset <= guarded { continue }
            counted[partition] = max(counted[partition] ?? position.offset, position.offset)
            growth.added += 1
            count += 1
            if alert.kind == .log { logs += 1 }
            if readings.count < Self.maxReadings { readings.append(alert.id) }
            if alert.ts < firstTS { firstTS = alert.ts }
            if alert.ts > lastTS { lastTS = alert.ts }
            if alert.severity > severityLevel { severity = alert.severity.rawValue }
            if worst == nil || alert.score > worst!.score {
                worst = Worst(
                    id: alert.id, ts: alert.ts, score: alert.score, detail: alert.detail, why: alert.why,
                    model: alert.model)
            }
            if alert.kind == .log, samples.count < AlertGroup.maxSamples { samples.append(alert.detail) }
            if kind == .log, let template = alert.template, !(templates ?? []).contains(template),
                (templates ?? []).count < Self.maxTemplates
            {
                templates = (templates ?? []) + [template]
            }
            if episode == nil { episode = alert.episode }
            for finding in alert.findings {
                if let index = peaks.firstIndex(where: { $0.channel == finding.channel }) {
                    if abs(finding.sigmas) > abs(peaks[index].sigmas) { peaks[index] = finding }
                } else if peaks.count < Self.maxPeaks {
                    peaks.append(finding)
                    // The first alert names the channels the message opens with; later ones are news.
                    if count > 1 { growth.newChannels.append(finding.channel) }
                }
            }
            if kind == .digest {
                if subjects[alert.subject] != nil || subjects.count < Self.maxSubjects {
                    subjects[alert.subject, default: 0] += 1
                }
            }
        }
        growth.severityRose = count > growth.added && severityLevel > before
        return growth
    }

    /// Takes an Alertmanager notification in (its alerts are the group's state, not a count).
    mutating func take(_ notification: AlertmanagerNotification, at position: KafkaPosition) -> Growth {
        var growth = Growth(added: notification.alerts.count)
        let known = Set(alertmanager?.alerts.map(\.identity) ?? [])
        let before = severityLevel
        let isFirst = alertmanager == nil
        alertmanager = notification
        counted[String(position.partition.partition)] = position.offset
        count = notification.alerts.count
        severity = notification.severity ?? severity
        let now = Timestamp.now()
        lastTS = now
        if !isFirst {
            growth.newChannels = notification.alerts.filter { !known.contains($0.identity) && $0.status == "firing" }
                .map { $0.labels["instance"] ?? $0.name }
            growth.severityRose = severityLevel > before
        }
        return growth
    }

    // MARK: Record

    func record() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    static func decode(_ bytes: [UInt8]) -> Incident? {
        try? JSONDecoder().decode(Incident.self, from: Data(bytes))
    }
}

/// A subject that a person silenced in the notifier (devices and log sources; Alertmanager
/// groups are silenced in Alertmanager itself).
struct Mute: Sendable, Codable, Equatable {
    var subjectKey: String
    var by: String
    var until: String

    func record() -> [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }
    static func decode(_ bytes: [UInt8]) -> Mute? { try? JSONDecoder().decode(Mute.self, from: Data(bytes)) }

    func holds(at now: Double) -> Bool { (Timestamp.secondsSinceEpoch(until) ?? 0) > now }
}
