// Every incident this notifier knows, and the subjects people muted. Closed windows of
// anomalies, Alertmanager notifications, episode ends and people's verdicts go in; out come
// the messages to send: which incident to post or update, and what to say in its thread.
// Shared by the worker (which changes it) and delivery (which renders an incident as it is
// when its turn comes, and notes the message Slack gave it).
import Events
import Foundation
import Kafka
import Synchronization

final class IncidentBook: Sendable {
    struct Settings: Sendable {
        /// More new subjects than this in one window become a fleet-wide digest.
        var digestThreshold = 5
        /// A log burst, a digest (and a device without episodes) is over after this long quiet.
        var quiet: Duration = .seconds(600)
        /// An open incident nobody acknowledged gets a reminder this often (nil: never).
        var remindEvery: Duration? = .seconds(1800)
        /// Resolved incidents are forgotten (and their records deleted) this long after.
        var retention: Duration = .seconds(86_400)
    }

    /// What a message says in the incident's thread besides updating the incident's message.
    enum Reply: Sendable, Equatable {
        case news(Incident.Growth)
        case resolved
        case quiet
        case acknowledged
        case silenced
        case notAnomaly
        case resolvedByHand
        case reminder
    }

    /// One message to send: the incident as it will be then, and the inputs it covers.
    struct Planned: Sendable {
        var key: String
        var channel: String
        var reply: Reply?
        var positions: [KafkaPosition]
        var alerts: Int
        /// The incident's first message (a webhook posts it; later ones only with a reply).
        var first = false
    }

    /// What folding alerts in came to.
    struct Folded: Sendable {
        var planned: [Planned] = []
        /// Positions needing no message (a muted subject, an incident a person closed).
        var settled: [KafkaPosition] = []
        var muted = 0
    }

    private struct State {
        var incidents: [String: Incident] = [:]
        /// The open incident of a subject that has no episodes: `log:<source>`,
        /// `device:<id>` (an older scorer), `digest:<channel>`.
        var open: [String: String] = [:]
        var mutes: [String: Mute] = [:]
    }

    let settings: Settings
    private let state = Mutex(State())

    init(settings: Settings) {
        self.settings = settings
    }

    // MARK: Reading

    func incident(_ key: String) -> Incident? { state.withLock { $0.incidents[key] } }

    var openCount: Int { state.withLock { $0.incidents.values.filter(\.isOpen).count } }

    func mute(_ subject: Feedback.Subject) -> Mute? { state.withLock { $0.mutes[Incident.muteKey(subject)] } }

    // MARK: Alerts in

    /// Folds a closed window's groups into their incidents, or new ones.
    func fold(_ window: ClosedWindow, now: Double = Date().timeIntervalSince1970) -> Folded {
        state.withLock { state in
            var folded = Folded()
            var fresh: [AlertGroup] = []
            for group in window.groups.flatMap(Self.splitByEpisode) {
                if Self.isMuted(group.key, state: state, now: now) {
                    folded.settled += group.positions
                    folded.muted += group.count
                    continue
                }
                guard let key = Self.existing(group, channel: window.channel, state: state) else {
                    fresh.append(group)
                    continue
                }
                let growth = state.incidents[key]!.add(group)
                state.incidents[key]!.seenAt = Timestamp.now()
                if state.incidents[key]!.resolved != nil {
                    // Closed by a person: counted, not announced again.
                    folded.settled += group.positions
                } else {
                    folded.planned.append(
                        Planned(
                            key: key, channel: window.channel, reply: growth.isNews ? .news(growth) : nil,
                            positions: group.positions, alerts: group.count))
                }
            }
            guard !fresh.isEmpty else { return folded }
            let digestSlot = "digest:" + window.channel
            if fresh.count > settings.digestThreshold || state.open[digestSlot] != nil {
                // A fleet-wide burst: one message for all of it, kept up to date while it lasts.
                let key =
                    state.open[digestSlot]
                    ?? Incident.digestKey(channel: window.channel, firstID: fresh[0].alerts[0].id)
                let first = state.incidents[key] == nil
                if first {
                    state.incidents[key] = Incident(
                        key: key, kind: .digest, subject: window.channel, channel: window.channel,
                        ts: fresh[0].alerts[0].ts)
                    state.open[digestSlot] = key
                }
                // In input order: the digest counts alerts of many devices by their offsets.
                let ordered = zip(fresh.flatMap(\.alerts), fresh.flatMap(\.positions)).sorted {
                    ($0.1.partition.partition, $0.1.offset) < ($1.1.partition.partition, $1.1.offset)
                }
                var merged = AlertGroup(ordered[0].0)
                for (alert, position) in ordered { merged.add(alert, at: position) }
                _ = state.incidents[key]!.add(merged)
                state.incidents[key]!.seenAt = Timestamp.now()
                folded.planned.append(
                    Planned(
                        key: key, channel: window.channel, reply: nil, positions: fresh.flatMap(\.positions),
                        alerts: fresh.reduce(0) { $0 + $1.count }, first: first))
                return folded
            }
            for group in fresh {
                let first = group.alerts[0]
                let incident: Incident
                switch (group.key.kind, first.episode) {
                case (.reading, .some(let episode)):
                    incident = Incident(
                        key: Incident.deviceKey(episode: episode), kind: .device, subject: first.subject,
                        channel: window.channel, ts: first.ts)
                case (.reading, .none):
                    incident = Incident(
                        key: Incident.deviceKey(device: first.subject, firstID: first.id), kind: .device,
                        subject: first.subject, channel: window.channel, ts: first.ts)
                    state.open["device:" + first.subject] = incident.key
                case (.log, _):
                    incident = Incident(
                        key: Incident.logKey(source: first.subject, firstID: first.id), kind: .log,
                        subject: first.subject, channel: window.channel, ts: first.ts)
                    state.open["log:" + first.subject] = incident.key
                }
                state.incidents[incident.key] = incident
                _ = state.incidents[incident.key]!.add(group)
                state.incidents[incident.key]!.seenAt = Timestamp.now()
                folded.planned.append(
                    Planned(
                        key: incident.key, channel: window.channel, reply: nil, positions: group.positions,
                        alerts: group.count, first: true))
            }
            return folded
        }
    }

    /// A device's alerts of two episodes within one window are two groups.
    private static func splitByEpisode(_ group: AlertGroup) -> [AlertGroup] {
        guard group.key.kind == .reading, Set(group.alerts.map(\.episode)).count > 1 else { return [group] }
        var parts: [AlertGroup] = []
        for (alert, position) in zip(group.alerts, group.positions) {
            if parts.last?.alerts.last?.episode != alert.episode { parts.append(AlertGroup(alert)) }
            parts[parts.count - 1].add(alert, at: position)
        }
        return parts
    }

    private static func isMuted(_ key: AlertGroup.Key, state: State, now: Double) -> Bool {
        let subject: Feedback.Subject = key.kind == .reading ? .device(key.subject) : .logSource(key.subject)
        return state.mutes[Incident.muteKey(subject)]?.holds(at: now) ?? false
    }

    /// The incident a group belongs to, when it has one already.
    private static func existing(_ group: AlertGroup, channel: String, state: State) -> String? {
        let first = group.alerts[0]
        switch (group.key.kind, first.episode) {
        case (.reading, .some(let episode)):
            let key = Incident.deviceKey(episode: episode)
            return state.incidents[key] != nil ? key : nil
        case (.reading, .none):
            return state.open["device:" + first.subject]
        case (.log, _):
            return state.open["log:" + first.subject]
        }
    }

    /// A device's episode is over: its incident resolves.
    func closeEpisode(_ closed: EpisodeClosed) -> Planned? {
        state.withLock { state in
            let key = Incident.deviceKey(episode: closed.episodeID)
            guard var incident = state.incidents[key], incident.resolved == nil else { return nil }
            incident.resolved = Incident.Mark(by: "scorer", at: closed.ts)
            incident.lastTS = max(incident.lastTS, closed.ts)
            state.incidents[key] = incident
            guard incident.message != nil else { return nil }
            return Planned(key: key, channel: incident.channel, reply: .resolved, positions: [], alerts: 0)
        }
    }

    /// An Alertmanager notification: its group's incident opens, grows or resolves.
    func take(_ notification: AlertmanagerNotification, channel: String, at position: KafkaPosition) -> Planned? {
        state.withLock { state in
            let key = Incident.alertmanagerKey(groupKey: notification.groupKey)
            // Firing again after it resolved is a new incident with a new message.
            if let old = state.incidents[key], old.resolved != nil, !notification.isResolved {
                state.incidents[key] = nil
            }
            let first = state.incidents[key] == nil
            if first {
                state.incidents[key] = Incident(
                    key: key, kind: .alertmanager, subject: notification.name, channel: channel, ts: Timestamp.now())
            }
            var incident = state.incidents[key]!
            let wasResolved = incident.resolved != nil
            let growth = incident.take(notification, at: position)
            incident.seenAt = Timestamp.now()
            var reply: Reply? = growth.isNews ? .news(growth) : nil
            if notification.isResolved {
                guard !wasResolved else {
                    state.incidents[key] = incident
                    return nil
                }
                incident.resolved = Incident.Mark(by: "alertmanager", at: Timestamp.now())
                // Said even before the first message is out: a webhook posts it as a message of its own.
                reply = first ? nil : .resolved
            } else if wasResolved {
                state.incidents[key] = incident
                return nil
            }
            state.incidents[key] = incident
            return Planned(
                key: key, channel: incident.channel, reply: reply, positions: [position], alerts: 1, first: first)
        }
    }

    // MARK: People

    enum Verdict: Sendable {
        /// Show it: update the message and reply in its thread.
        case planned(Planned)
        /// An Alertmanager group to silence in Alertmanager first.
        case silenceInAlertmanager(Incident)
        /// Nothing to do (already done, or the incident is unknown here).
        case nothing(reason: String)
    }

    /// Applies a person's verdict to its incident.
    func apply(_ feedback: Feedback, now: Double = Date().timeIntervalSince1970) -> Verdict {
        state.withLock { state in
            guard var incident = state.incidents[feedback.incident] else { return .nothing(reason: "unknown_incident") }
            let mark = Incident.Mark(by: feedback.user, at: feedback.ts)
            let reply: Reply
            switch feedback.verdict {
            case .acknowledged:
                guard incident.acknowledged == nil else { return .nothing(reason: "already") }
                incident.acknowledged = mark
                reply = .acknowledged
            case .resolved:
                guard incident.resolved == nil else { return .nothing(reason: "already") }
                incident.resolved = mark
                reply = .resolvedByHand
            case .notAnomaly:
                guard incident.notAnomaly == nil else { return .nothing(reason: "already") }
                incident.notAnomaly = mark
                if incident.resolved == nil { incident.resolved = mark }
                reply = .notAnomaly
            case .silenced:
                guard let until = feedback.until else { return .nothing(reason: "invalid") }
                if incident.kind == .alertmanager {
                    return .silenceInAlertmanager(incident)
                }
                incident.silenced = mark
                incident.silencedUntil = until
                let mute = Mute(subjectKey: Incident.muteKey(feedback.subject), by: feedback.user, until: until)
                state.mutes[mute.subjectKey] = mute
                reply = .silenced
            }
            state.incidents[feedback.incident] = incident
            return .planned(
                Planned(key: incident.key, channel: incident.channel, reply: reply, positions: [], alerts: 0))
        }
    }

    /// Alertmanager made the silence `id` for an incident.
    func silencedInAlertmanager(_ key: String, id: String, by user: String, at ts: String, until: String) -> Planned? {
        state.withLock { state in
            guard var incident = state.incidents[key] else { return nil }
            (incident.silenced, incident.silencedUntil, incident.silenceID) = (
                Incident.Mark(by: user, at: ts), until, id
            )
            state.incidents[key] = incident
            return Planned(key: key, channel: incident.channel, reply: .silenced, positions: [], alerts: 0)
        }
    }

    /// Delivery's note: the incident's message is this one.
    func posted(_ key: String, message: Incident.MessageRef) {
        state.withLock { state in state.incidents[key]?.message = message }
    }

    // MARK: Time

    /// What time alone brings: reminders, quiet bursts that are over, and old incidents to
    /// forget (returned as keys whose records should be deleted).
    func tick(now: Double = Date().timeIntervalSince1970) -> (planned: [Planned], forgotten: [String]) {
        state.withLock { state in
            var planned: [Planned] = []
            var forgotten: [String] = []
            let quiet = settings.quiet.seconds
            let stamp = Timestamp.format(millisecondsSinceEpoch: Int64(now * 1000))
            for (slot, key) in state.open {
                guard let incident = state.incidents[key], incident.resolved == nil else {
                    state.open[slot] = nil
                    continue
                }
                guard now - (Timestamp.secondsSinceEpoch(incident.seenAt) ?? now) >= quiet else { continue }
                state.open[slot] = nil
                state.incidents[key]!.resolved = Incident.Mark(by: "alertron", at: stamp)
                if incident.message != nil {
                    planned.append(
                        Planned(key: key, channel: incident.channel, reply: .quiet, positions: [], alerts: 0))
                }
            }
            for (key, incident) in state.incidents {
                if let resolved = incident.resolved {
                    if now - (Timestamp.secondsSinceEpoch(resolved.at) ?? now) >= settings.retention.seconds {
                        state.incidents[key] = nil
                        forgotten.append(key)
                    }
                    continue
                }
                guard let every = settings.remindEvery?.seconds, incident.acknowledged == nil,
                    incident.message != nil, incident.kind != .digest,
                    !Self.subjectMuted(incident, state: state, now: now)
                else { continue }
                let last = Timestamp.secondsSinceEpoch(incident.remindedAt ?? incident.firstTS) ?? now
                guard now - last >= every else { continue }
                state.incidents[key]!.remindedAt = stamp
                planned.append(Planned(key: key, channel: incident.channel, reply: .reminder, positions: [], alerts: 0))
            }
            for (key, mute) in state.mutes where !mute.holds(at: now) {
                state.mutes[key] = nil
                forgotten.append(key)
            }
            return (planned, forgotten)
        }
    }

    private static func subjectMuted(_ incident: Incident, state: State, now: Double) -> Bool {
        state.mutes[Incident.muteKey(incident.feedbackSubject)]?.holds(at: now) ?? false
    }

    // MARK: Records

    /// Takes records read back from `notifier.incidents`: a newer revision than what is held wins.
    func restore(_ records: [[UInt8]: [UInt8]]) -> Int {
        state.withLock { state in
            var restored = 0
            for (keyBytes, value) in records {
                let key = String(decoding: keyBytes, as: UTF8.self)
                if key.hasPrefix("mute:") {
                    if let mute = Mute.decode(value) { state.mutes[key] = mute }
                    continue
                }
                guard var incident = Incident.decode(value) else { continue }
                if let held = state.incidents[key], held.revision >= incident.revision { continue }
                incident.replayGuard = incident.counted
                state.incidents[key] = incident
                restored += 1
                if incident.resolved == nil {
                    switch incident.kind {
                    case .log: state.open["log:" + incident.subject] = key
                    case .digest: state.open["digest:" + incident.subject] = key
                    case .device where incident.episode == nil: state.open["device:" + incident.subject] = key
                    default: break
                    }
                }
            }
            return restored
        }
    }

    /// The record of an incident as it is now, its revision counted up (nil when forgotten).
    func record(_ key: String) -> [UInt8]? {
        state.withLock { state in
            guard state.incidents[key] != nil else { return nil }
            state.incidents[key]!.revision += 1
            return state.incidents[key]!.record()
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
