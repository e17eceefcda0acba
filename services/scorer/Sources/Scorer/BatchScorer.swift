// Turns one consumed batch into the messages it causes: every reading and log line scored to
// `scored`, the anomalous ones also to `anomalies`, anything undecodable to the dead-letter topic;
// a person's "not an anomaly" on a device's episode widens that device's normal, and on a log
// incident makes its templates routine for the source.
// Pure: no I/O; the output writer and score buffer are reused from batch to batch.
import Events
import Kafka
import Models

package struct BatchScorer {
    /// What one batch came to, for metrics and logs.
    package struct Outcome: Sendable {
        var scored = 0
        /// Readings flagged because a feature lay far outside the training range.
        var outOfRange = 0
        /// Anomalous readings (critical log lines are counted in `criticalLogs`).
        var anomalies: [(severity: Severity, device: String, score: Double)] = []
        /// Devices this replica had not held before the batch (their metric series are made then).
        var newDevices: [String] = []
        /// Readings in the origin project's shape (no schema, `features`, Unix-seconds `ts`).
        var originReadings = 0
        /// Episodes that began, and that ended (each end announced on `anomalies`).
        var episodesOpened = 0
        var episodesClosed = 0
        /// Devices in memory after the batch: still learning their normal, and judged by it.
        var devicesLearning = 0
        var devicesJudged = 0
        var deadLetters: [String: Int] = [:]
        /// Readings of profiles without a model (judged by their device's baseline alone), by profile.
        var withoutModel: [String: Int] = [:]
        var inferenceTime: Duration = .zero
        var criticalLogs = 0
        var routineLogs = 0
        /// Lines of templates people said are routine (among `routineLogs`).
        var routineByPeople = 0
        /// Critical log lines by the signal that made them so.
        var logReasons: [LogJudge.Reason: Int] = [:]
        var logClassificationTime: Duration = .zero
        /// What became of each verdict read from the feedback topic, in order; undecodable ones
        /// are dead letters (counted in `deadLetters` too).
        var feedback: [FeedbackNote] = []
        var invalidFeedback = 0
    }

    /// One verdict from the feedback topic and what it did.
    package struct FeedbackNote: Sendable {
        package enum Result: String, Sendable, CaseIterable {
            /// "Not an anomaly" on the device's latest episode: its tests that fired are widened; or
            /// on a log incident: its templates are routine for the source from now on.
            case applied
            /// Not a device this replica holds: never seen; or another replica's, when the feedback
            /// topic has other partitions than the input or the group another assignor than range.
            case unknownDevice = "unknown_device"
            /// Not the device's latest episode (a newer one opened since, or it learned afresh).
            case staleEpisode = "stale_episode"
            /// "Not an anomaly" on a log source none of whose named templates this replica holds
            /// (forgotten, or another replica's, as for `unknownDevice`; or the verdict names none).
            case unknownTemplate = "unknown_template"
            /// Not the scorer's to act on: acknowledged, silenced, resolved, Alertmanager groups.
            case ignored
        }

        var result: Result
        var feedback: Feedback
        /// For `applied`: the tests widened, as `<channel>.<detector>=<tolerance>`, or the log
        /// templates made routine, as `template=<id>`.
        var widened: [String] = []
        /// The device's latest episode, when it is not the one the verdict names.
        var latestEpisode: String?
    }

    /// The models a batch is scored with: each device profile's fleet model (by profile name,
    /// `default` among them), and the log classifier.
    package struct Models: Sendable {
        var sensors: [String: IsolationForest]
        var log: LogClassifier

        package init(sensors: [String: IsolationForest], log: LogClassifier) {
            (self.sensors, self.log) = (sensors, log)
        }
    }

    /// One profile's fleet model within a batch: the rows of its devices still learning, and
    /// their scores.
    private struct Fleet {
        let model: IsolationForest
        /// Worked out once per batch: the per-reading check is then a few comparisons.
        let bounds: [ClosedRange<Double>]?
        var features: FeatureMatrix
        var scores: [Double] = []
    }

    let settings: ScorerSettings
    /// Every device this replica has scored, by device id (the topic's key, so the replica that
    /// owns a partition holds its devices).
    private(set) var devices: [String: DeviceJudge.Memory] = [:]
    /// How many of `devices` are still learning (the rest judge themselves).
    private var learningDevices = 0
    /// Input partitions whose devices were restored from the state topic: a reading of any
    /// other partition must wait for `restore`, or its device would start cold.
    private var restoredPartitions: Set<Int32> = []
    /// Devices whose memory this batch changed, each once, for the state topic.
    private var changed: [String] = []
    private var batchNumber = 0
    private var snapshot = SnapshotWriter()
    private var writer = EventWriter(capacity: 512)
    private var fleets: [Fleet] = []
    /// Each profile's index in `fleets` (-1: the profile has no model), and the last one looked
    /// up: a batch is mostly of one profile, so most readings skip the dictionary.
    private var fleetOfProfile: [String: Int] = [:]
    private var lastProfile: (name: String, fleet: Int)?
    private var row: [Double] = []
    /// The batch's readings: where each came from, the fleet (index in `fleets`) of its profile
    /// if it has a model, and for a device still learning its normal, its row in that fleet's
    /// features and the range rule's verdict.
    private var pending: [(reading: Reading, message: Int, fleet: Int?, forestRow: Int?, outOfRange: Bool)] = []
    private var pendingLogs: [(log: LogEvent, message: Int)] = []
    /// The batch's verdicts, applied in their place among its readings.
    private var pendingFeedback: [(feedback: Feedback, message: Int)] = []
    private var verdicts: [LogJudge.Verdict] = []
    /// Every log source's templates, in the order their lines come (a source is one partition's).
    private var logJudge: LogJudge

    package init(settings: ScorerSettings) {
        self.settings = settings
        logJudge = LogJudge(settings: settings.logs)
    }

    /// Appends to `output` every message `batch` causes.
    package mutating func score(
        _ batch: KafkaConsumerBatch, models: Models, scoredAt: String,
        into output: inout KafkaProducerBatch
    ) -> Outcome {
        var outcome = Outcome()
        fleets.removeAll(keepingCapacity: true)
        fleetOfProfile.removeAll(keepingCapacity: true)
        lastProfile = nil
        pending.removeAll(keepingCapacity: true)
        pendingLogs.removeAll(keepingCapacity: true)
        pendingFeedback.removeAll(keepingCapacity: true)
        batchNumber &+= 1
        changed.removeAll(keepingCapacity: true)

        for (index, message) in batch.enumerated() {
            guard let value = message.value, !value.isEmpty else {
                deadLetter(
                    message, code: "empty_message", reason: "the message has no value (a tombstone or empty payload)",
                    into: &output, &outcome)
                continue
            }
            if message.topic == settings.feedbackTopic {
                do {
                    pendingFeedback.append((try EventCodec.decodeFeedback(value), index))
                } catch {
                    deadLetter(message, code: error.code.rawValue, reason: error.description, into: &output, &outcome)
                }
                continue
            }
            do {
                let (event, origin) = try EventCodec.decodeInbound(
                    value, originID: { Self.originID(of: message) }, now: scoredAt)
                if origin { outcome.originReadings += 1 }
                switch event {
                case .reading(let reading):
                    guard let fleet = fleet(of: reading.profile, models: models, capacity: batch.count) else {
                        // No model for this profile: the device's own baseline is all there is.
                        outcome.withoutModel[reading.profile, default: 0] += 1
                        pending.append((reading, index, nil, nil, false))
                        continue
                    }
                    if let missing = Self.values(of: reading, for: fleets[fleet].model.featureNames, into: &row) {
                        deadLetter(
                            message, code: EventError.Code.missingField.rawValue,
                            reason:
                                """
                                reading of profile '\(reading.profile)' lacks channel '\(missing)', which the profile's \
                                model uses (\(fleets[fleet].model.featureNames.joined(separator: ", ")))
                                """,
                            into: &output, &outcome)
                        continue
                    }
                    // A device that knows its own normal is judged by it alone: no forest.
                    guard devices[reading.deviceID]?.state.isLearning ?? true else {
                        pending.append((reading, index, fleet, nil, false))
                        continue
                    }
                    fleets[fleet].features.append(row: row)
                    var outOfRange = false
                    if let bounds = fleets[fleet].bounds {
                        for column in 0..<row.count where !bounds[column].contains(row[column]) {
                            outOfRange = true
                            break
                        }
                    }
                    pending.append((reading, index, fleet, fleets[fleet].features.rows - 1, outOfRange))
                case .log(let log):
                    pendingLogs.append((log, index))
                }
            } catch {
                deadLetter(message, code: error.code.rawValue, reason: error.description, into: &output, &outcome)
            }
        }

        let start = ContinuousClock.now
        for index in fleets.indices where fleets[index].features.rows > 0 {
            fleets[index].model.score(fleets[index].features, into: &fleets[index].scores)
        }
        outcome.inferenceTime = ContinuousClock.now - start

        let judge = DeviceJudge(detection: settings.detection)
        var nextFeedback = 0
        for (reading, index, fleet, forestRow, outOfRange) in pending {
            // A verdict counts from where it stands in the batch: readings before it are judged
            // without it, readings after it with it.
            while nextFeedback < pendingFeedback.count, pendingFeedback[nextFeedback].message < index {
                apply(pendingFeedback[nextFeedback].feedback, judge: judge, &outcome)
                nextFeedback += 1
            }
            let model = fleet.map { fleets[$0].model }
            if let model {
                _ = Self.values(of: reading, for: model.featureNames, into: &row)
            } else {
                row.removeAll(keepingCapacity: true)
                for channel in reading.channels { row.append(channel.value) }
            }
            // A device that starts learning again within the batch (an episode became its new
            // normal) has no forest score for the rest of it: the fleet model does not flag them.
            let fleetView = DeviceJudge.FleetView(
                score: forestRow.map { fleets[fleet!].scores[$0] } ?? 0, outOfRange: outOfRange)
            let message = batch[index]
            let judgement: DeviceJudge.Judgement
            // One hash of the device id, however the reading is judged.
            let slot: [String: DeviceJudge.Memory].Index
            if let known = devices.index(forKey: reading.deviceID) {
                slot = known
                if devices.values[slot].profile != reading.profile
                    || !Self.sameChannels(devices.values[slot].columns, reading, model: model)
                {
                    // Its profile's model now uses other channels (or, without a model, the device
                    // sends others), or it says it is another type: what it learned does not
                    // apply, it learns afresh.
                    if !devices.values[slot].state.isLearning { learningDevices += 1 }
                    devices.values[slot] = Self.memory(for: reading, model: model)
                }
            } else {
                devices[reading.deviceID] = Self.memory(for: reading, model: model)
                learningDevices += 1
                outcome.newDevices.append(reading.deviceID)
                slot = devices.index(forKey: reading.deviceID)!  // just added
            }
            if devices.values[slot].partition == message.partition && message.offset <= devices.values[slot].lastOffset
            {
                // Redelivered after a crash, and already in the restored state: judged again
                // (its output may not have reached the broker) but not learned from twice.
                var copy = devices.values[slot]
                judgement = judge.judge(
                    row, readingID: reading.id, deviceID: reading.deviceID,
                    time: Timestamp.secondsSinceEpoch(reading.ts), fleet: fleetView, model: model, memory: &copy)
            } else {
                var firstChange = false
                // Judged in place: a copy out of the dictionary would copy the device's arrays too.
                judgement = Self.judge(
                    reading, judge: judge, row: row, fleet: fleetView, model: model, at: message, batch: batchNumber,
                    firstChange: &firstChange, memory: &devices.values[slot])
                if firstChange { changed.append(reading.deviceID) }
                learningDevices += (judgement.startedLearningAgain ? 1 : 0) - (judgement.finishedLearning ? 1 : 0)
            }
            if judgement.learning && outOfRange { outcome.outOfRange += 1 }
            if judgement.episode?.state == .opened { outcome.episodesOpened += 1 }
            let scored = ScoredEvent(
                event: .reading(reading), score: judgement.score, anomaly: judgement.anomaly,
                severity: judgement.severity, model: judgement.model, scoredAt: scoredAt, episode: judgement.episode,
                explanation: judgement.explanation)
            writer.reset()
            writer.write(scored)
            let key = batch[index].key
            output.append(topic: settings.scoredTopic, key: key, value: writer.bytes)
            if scored.anomaly {
                output.append(topic: settings.anomaliesTopic, key: key, value: writer.bytes)
                outcome.anomalies.append((scored.severity, reading.deviceID, scored.score))
            }
            if let episodeID = judgement.closedEpisode {
                writer.reset()
                writer.write(
                    EpisodeClosed(ts: reading.ts, deviceID: reading.deviceID, episodeID: episodeID, scoredAt: scoredAt))
                output.append(topic: settings.anomaliesTopic, key: key, value: writer.bytes)
                outcome.episodesClosed += 1
            }
        }
        for (feedback, _) in pendingFeedback[nextFeedback...] { apply(feedback, judge: judge, &outcome) }
        outcome.scored = pending.count
        (outcome.devicesLearning, outcome.devicesJudged) = (learningDevices, devices.count - learningDevices)
        if !settings.stateInMemory {
            for device in changed {
                guard let memory = devices[device] else { continue }
                snapshot.reset()
                memory.write(to: &snapshot)
                output.append(
                    topic: settings.stateTopic, key: device, value: snapshot.bytes, partition: memory.partition)
            }
        }
        classifyLogs(batch, classifier: models.log, scoredAt: scoredAt, into: &output, &outcome)
        // After the lines, and in every batch: a verdict alone in its batch changed templates too.
        let due = logJudge.miner.sourcesToWrite(interval: Self.logStateInterval)
        let evicted = logJudge.miner.takeEvicted()
        if !settings.stateInMemory {
            // A source dropped for others (the cap of sources) goes from the compacted topic too,
            // or every rebalance would read it back.
            for (source, partition) in evicted {
                output.appendTombstone(
                    topic: settings.stateTopic, key: Self.stateKey(logSource: source), partition: partition)
            }
            for source in due {
                snapshot.reset()
                guard let partition = logJudge.miner.write(source: source, to: &snapshot) else { continue }
                output.append(
                    topic: settings.stateTopic, key: Self.stateKey(logSource: source), value: snapshot.bytes,
                    partition: partition)
            }
        }
        return outcome
    }

    /// Judges one reading in place and notes where it came from; `firstChange` is set when
    /// this is the batch's first change to the device's memory.
    private static func judge(
        _ reading: Reading, judge: DeviceJudge, row: [Double], fleet: DeviceJudge.FleetView, model: IsolationForest?,
        at message: KafkaConsumerMessage, batch: Int, firstChange: inout Bool, memory: inout DeviceJudge.Memory
    ) -> DeviceJudge.Judgement {
        let judgement = judge.judge(
            row, readingID: reading.id, deviceID: reading.deviceID, time: Timestamp.secondsSinceEpoch(reading.ts),
            fleet: fleet, model: model, memory: &memory)
        (memory.partition, memory.lastOffset) = (message.partition, message.offset)
        firstChange = memory.batchMark != batch
        memory.batchMark = batch
        return judgement
    }

    /// Applies one verdict: "not an anomaly" on a device's latest episode widens the tests that
    /// fired in it, and the device's memory goes to the state topic with the batch's changes; on
    /// a log incident, its templates become routine for the source (their lines are judged
    /// after the batch's readings, so a verdict counts for every line of its batch).
    /// Applying it twice (a redelivery) changes nothing more.
    private mutating func apply(_ feedback: Feedback, judge: DeviceJudge, _ outcome: inout Outcome) {
        var note = FeedbackNote(result: .ignored, feedback: feedback)
        switch (feedback.verdict, feedback.subject) {
        case (.notAnomaly, .device(let device)):
            guard let slot = devices.index(forKey: device) else {
                note.result = .unknownDevice
                break
            }
            guard let widened = judge.accept(episode: feedback.episodeID, memory: &devices.values[slot]) else {
                (note.result, note.latestEpisode) = (.staleEpisode, devices.values[slot].lastEpisodeID)
                break
            }
            note.result = .applied
            let columns = devices.values[slot].columns
            note.widened = widened.map { widening in
                let test = widening.channel.map { "\(columns[$0]).\(widening.detector.rawValue)" } ?? "relation"
                return "\(test)=\((widening.tolerance * 100).rounded() / 100)"
            }
            if !widened.isEmpty && devices.values[slot].batchMark != batchNumber {
                devices.values[slot].batchMark = batchNumber
                changed.append(device)
            }
        case (.notAnomaly, .logSource(let source)):
            let taught = logJudge.miner.markRoutine(
                source: source, templates: feedback.templates,
                label: .init(by: feedback.user, at: feedback.ts))
            note.result = taught.isEmpty ? .unknownTemplate : .applied
            note.widened = taught.map { "template=\($0)" }
        default:
            // Acknowledged, silenced, resolved, Alertmanager groups: the notifier's to act on.
            note.result = .ignored
        }
        outcome.feedback.append(note)
    }

    /// The index in `fleets` of `profile`'s model, added on its first reading of the batch; nil
    /// when the profile has none.
    private mutating func fleet(of profile: String, models: Models, capacity: Int) -> Int? {
        if let last = lastProfile, last.name == profile { return last.fleet < 0 ? nil : last.fleet }
        let fleet: Int
        if let known = fleetOfProfile[profile] {
            fleet = known
        } else if let model = models.sensors[profile] {
            fleets.append(
                Fleet(
                    model: model, bounds: model.trainingBounds(tolerance: settings.rangeTolerance),
                    features: FeatureMatrix(columns: model.featureNames.count, capacity: capacity)))
            fleet = fleets.count - 1
            fleetOfProfile[profile] = fleet
        } else {
            fleet = -1
            fleetOfProfile[profile] = fleet
        }
        lastProfile = (profile, fleet)
        return fleet < 0 ? nil : fleet
    }

    /// Whether a device's memory was learned over the channels this reading is judged on: the
    /// model's features (usually the very same array), or without a model, the reading's own
    /// channels. Compared in place: no array is built, no memory copied, per reading.
    private static func sameChannels(_ columns: [String], _ reading: Reading, model: IsolationForest?) -> Bool {
        if let model { return columns == model.featureNames }
        guard columns.count == reading.channels.count else { return false }
        for index in columns.indices where columns[index] != reading.channels[index].name { return false }
        return true
    }

    /// A fresh memory for the reading's device, over the channels it is judged on.
    private static func memory(for reading: Reading, model: IsolationForest?) -> DeviceJudge.Memory {
        DeviceJudge.Memory(profile: reading.profile, columns: model?.featureNames ?? reading.channels.map(\.name))
    }

    /// Fills `row` with the reading's values of `columns`; the first channel it lacks, if any.
    private static func values(of reading: Reading, for columns: [String], into row: inout [Double]) -> String? {
        row.removeAll(keepingCapacity: true)
        for column in columns {
            guard let value = reading.value(of: column) else { return column }
            row.append(value)
        }
        return nil
    }

    // MARK: - Devices' state across replicas

    /// The input partitions of `batch` whose devices must be restored before it is scored
    /// (none when state is kept in memory only). A verdict's partition counts when this replica
    /// owns the same partition of the input topic (`inputPartitionsOwned`): the two topics have
    /// the same partitions and keys, so its device is there. Restoring a partition owned by
    /// another replica would make a stale copy of its devices.
    package func partitionsToRestore(
        in batch: KafkaConsumerBatch, inputPartitionsOwned: Set<Int32> = []
    ) -> [Int32] {
        guard !settings.stateInMemory else { return [] }
        var missing: Set<Int32> = []
        for message in batch where !restoredPartitions.contains(message.partition) {
            guard message.topic != settings.feedbackTopic || inputPartitionsOwned.contains(message.partition) else {
                continue
            }
            missing.insert(message.partition)
        }
        return missing.sorted()
    }

    /// Takes in what the state topic holds for `partition` (device id or log source's key ->
    /// state record); returns how many devices and log sources were restored and how many
    /// records were unusable (another layout, or
    /// damaged: those devices learn afresh, as do those whose profile's model has changed
    /// channels since, at their next reading).
    package mutating func restore(partition: Int32, records: [[UInt8]: [UInt8]]) -> (restored: Int, discarded: Int) {
        var (restored, discarded) = (0, 0)
        for (key, value) in records {
            if let source = Self.logSource(ofStateKey: key) {
                if logJudge.miner.restore(source: source, snapshot: value, partition: partition) {
                    restored += 1
                } else {
                    discarded += 1
                }
                continue
            }
            guard let memory = DeviceJudge.Memory(snapshot: value), memory.partition == partition
            else {
                discarded += 1
                continue
            }
            devices[String(decoding: key, as: UTF8.self)] = memory
            restored += 1
        }
        restoredPartitions.insert(partition)
        learningDevices = devices.values.count { $0.state.isLearning }
        return (restored, discarded)
    }

    /// Drops the devices of partitions a rebalance moved (to or from this replica): whoever owns
    /// a partition next restores its devices from the state topic, this replica included.
    package mutating func forget(partitions: Set<Int32>) {
        guard !partitions.isEmpty else { return }
        devices = devices.filter { !partitions.contains($0.value.partition) }
        logJudge.miner.forget(partitions: partitions)
        restoredPartitions.subtract(partitions)
        learningDevices = devices.values.count { $0.state.isLearning }
    }

    /// Scores the batch's log lines: the probability of critical, and `critical` from the
    /// model's threshold. Critical lines also go to `anomalies`.
    private mutating func classifyLogs(
        _ batch: KafkaConsumerBatch, classifier: LogClassifier, scoredAt: String,
        into output: inout KafkaProducerBatch, _ outcome: inout Outcome
    ) {
        guard !pendingLogs.isEmpty else { return }
        verdicts.removeAll(keepingCapacity: true)
        let start = ContinuousClock.now
        let now = Timestamp.secondsSinceEpoch(scoredAt) ?? 0
        for (log, index) in pendingLogs {
            var message = log.message
            let partition = batch[index].partition
            verdicts.append(
                message.withUTF8 {
                    logJudge.judge(
                        $0, level: log.level, source: log.source,
                        time: Timestamp.secondsSinceEpoch(log.ts) ?? now, classifier: classifier, partition: partition)
                })
        }
        outcome.logClassificationTime = ContinuousClock.now - start

        for (position, (log, index)) in pendingLogs.enumerated() {
            let verdict = verdicts[position]
            if verdict.critical { outcome.criticalLogs += 1 } else { outcome.routineLogs += 1 }
            if let reason = verdict.reason { outcome.logReasons[reason, default: 0] += 1 }
            if verdict.routine != nil { outcome.routineByPeople += 1 }
            let detector = verdict.reason?.rawValue ?? (verdict.routine != nil ? Self.peopleDetector : nil)
            let scored = ScoredEvent(
                event: .log(log), score: verdict.probability, anomaly: verdict.critical,
                severity: verdict.critical ? .critical : .none, model: classifier.version, scoredAt: scoredAt,
                explanation: detector.map { Explanation(detector: $0, channels: [], summary: verdict.explanation) },
                template: LogTemplateRef(id: verdict.template.id, text: verdict.template.text))
            writer.reset()
            writer.write(scored)
            let key = batch[index].key
            output.append(topic: settings.scoredTopic, key: key, value: writer.bytes)
            if verdict.critical { output.append(topic: settings.anomaliesTopic, key: key, value: writer.bytes) }
        }
    }

    /// The explanation's detector on a line that is routine because people said so.
    static let peopleDetector = "people"
    /// A log source's counts are written at most this often (seconds of its lines' time) when its
    /// templates have not changed; a change is written with its batch.
    static let logStateInterval = 60.0
    /// A log source's key on the state topic: a byte no UTF-8 device id holds (0xFF), then
    /// `log:` and the source, so sources and devices never share a key.
    static func stateKey(logSource source: String) -> [UInt8] { logStateKeyPrefix + Array(source.utf8) }

    static func logSource(ofStateKey key: [UInt8]) -> String? {
        guard key.starts(with: logStateKeyPrefix) else { return nil }
        return String(decoding: key.dropFirst(logStateKeyPrefix.count), as: UTF8.self)
    }

    private static let logStateKeyPrefix: [UInt8] = [0xFF] + Array("log:".utf8)

    /// Payload kept in a dead letter. A dead letter holds it twice (base64, and text when it
    /// is UTF-8), so an uncapped 1 MB input would make a record the broker refuses, and the
    /// partition would stall on it. The source partition and offset still lead to the original.
    static let deadLetterPayloadLimit = 64 * 1024

    /// Every reason code a dead letter of the scorer can carry (for its metric's series).
    static let deadLetterReasons = ["empty_message"] + EventError.Code.allCases.map(\.rawValue)

    /// The id of an origin-shape reading, which has none: where it is stored, so a redelivered
    /// message keeps its id and duplicates can still be dropped downstream.
    static func originID(of message: KafkaConsumerMessage) -> String {
        "\(message.topic.prefix(96))-\(message.partition)-\(message.offset)"
    }

    private mutating func deadLetter(
        _ message: KafkaConsumerMessage, code: String, reason: String,
        into output: inout KafkaProducerBatch, _ outcome: inout Outcome
    ) {
        let payload = message.value ?? []
        var reason = reason
        if payload.count > Self.deadLetterPayloadLimit {
            reason += " (payload truncated to its first \(Self.deadLetterPayloadLimit) of \(payload.count) bytes)"
        }
        let letter = DeadLetter(
            id: EventID.generate(), ts: Timestamp.now(), reasonCode: code, reason: reason, rejectedBy: "scorer",
            sourceTopic: message.topic, sourcePartition: message.partition, sourceOffset: message.offset,
            key: message.key.map { Array($0.prefix(1024)) },
            payload: Array(payload.prefix(Self.deadLetterPayloadLimit)))
        writer.reset()
        writer.write(letter)
        let feedback = message.topic == settings.feedbackTopic
        output.append(
            topic: feedback ? settings.feedbackDeadLetterTopic : settings.deadLetterTopic, key: message.key,
            value: writer.bytes)
        outcome.deadLetters[code, default: 0] += 1
        if feedback { outcome.invalidFeedback += 1 }
    }
}

/// Why a model cannot judge readings: a feature that cannot name a channel.
extension IsolationForest {
    package var channelMismatch: ModelMismatch? {
        guard let bad = featureNames.first(where: { !Reading.isValidName($0.utf8) }) else { return nil }
        return ModelMismatch(
            message: "model \(version) uses feature '\(bad)', which cannot name a reading's channel ([a-z0-9_.], 1-64)")
    }
}

package struct ModelMismatch: Error, CustomStringConvertible {
    let message: String
    package var description: String { message }
}
