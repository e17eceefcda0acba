// Turns one consumed batch into the messages it causes: every reading and log line scored to
// `scored`, the anomalous ones also to `anomalies`, anything undecodable to the dead-letter topic.
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
        /// Episodes that began, and that ended (each end announced on `anomalies`).
        var episodesOpened = 0
        var episodesClosed = 0
        /// Devices in memory after the batch: still learning their normal, and judged by it.
        var devicesLearning = 0
        var devicesJudged = 0
        var deadLetters: [String: Int] = [:]
        var inferenceTime: Duration = .zero
        var criticalLogs = 0
        var routineLogs = 0
        var logClassificationTime: Duration = .zero
    }

    /// The models a batch is scored with: the sensor model, its feature columns as reading
    /// fields (`SensorFeature.columns(for:)`), and the log classifier.
    package struct Models: Sendable {
        var sensor: IsolationForest
        var columns: [SensorFeature]
        var log: LogClassifier

        package init(sensor: IsolationForest, columns: [SensorFeature], log: LogClassifier) {
            (self.sensor, self.columns, self.log) = (sensor, columns, log)
        }
    }

    let settings: ScorerSettings
    /// Every device this replica has scored, by device id (the topic's key, so the replica that
    /// owns a partition holds its devices), learned over `deviceColumns`.
    private(set) var devices: [String: DeviceJudge.Memory] = [:]
    private var deviceColumns: [SensorFeature] = []
    /// `deviceColumns` as state records name them.
    private var columnNames = ""
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
    private var features: FeatureMatrix
    private var scores: [Double] = []
    /// The batch's readings: where each came from, and for a device still learning its normal,
    /// its row in `features` (the fleet model scores only those) and the range rule's verdict.
    private var pending: [(reading: Reading, message: Int, forestRow: Int?, outOfRange: Bool)] = []
    private var pendingLogs: [(log: LogEvent, message: Int)] = []
    private var probabilities: [Double] = []

    package init(settings: ScorerSettings) {
        self.settings = settings
        features = FeatureMatrix(columns: SensorFeature.allCases.count, capacity: settings.batchSize)
    }

    /// Appends to `output` every message `batch` causes.
    package mutating func score(
        _ batch: KafkaConsumerBatch, models: Models, scoredAt: String,
        into output: inout KafkaProducerBatch
    ) -> Outcome {
        var outcome = Outcome()
        let model = models.sensor
        let columns = models.columns
        features = FeatureMatrix(columns: columns.count, capacity: batch.count)
        pending.removeAll(keepingCapacity: true)
        pendingLogs.removeAll(keepingCapacity: true)
        var row = [Double](repeating: 0, count: columns.count)
        // Worked out once per batch: the per-reading check is then a few comparisons.
        let bounds = model.trainingBounds(tolerance: settings.rangeTolerance)
        adopt(columns)
        batchNumber &+= 1
        changed.removeAll(keepingCapacity: true)

        for (index, message) in batch.enumerated() {
            guard let value = message.value, !value.isEmpty else {
                deadLetter(
                    message, code: "empty_message", reason: "the message has no value (a tombstone or empty payload)",
                    into: &output, &outcome)
                continue
            }
            do {
                switch try EventCodec.decodeInbound(value) {
                case .reading(let reading):
                    // A device that knows its own normal is judged by it alone: no forest.
                    guard devices[reading.deviceID]?.state.isLearning ?? true else {
                        pending.append((reading, index, nil, false))
                        continue
                    }
                    for (column, feature) in columns.enumerated() { row[column] = feature.value(of: reading) }
                    features.append(row: row)
                    var outOfRange = false
                    if let bounds {
                        for column in 0..<row.count where !bounds[column].contains(row[column]) {
                            outOfRange = true
                            break
                        }
                    }
                    pending.append((reading, index, features.rows - 1, outOfRange))
                case .log(let log):
                    pendingLogs.append((log, index))
                }
            } catch {
                deadLetter(message, code: error.code.rawValue, reason: error.description, into: &output, &outcome)
            }
        }

        let start = ContinuousClock.now
        if features.rows > 0 { model.score(features, into: &scores) }
        outcome.inferenceTime = ContinuousClock.now - start

        let judge = DeviceJudge(detection: settings.detection, model: model)
        for (reading, index, forestRow, outOfRange) in pending {
            for (column, feature) in columns.enumerated() { row[column] = feature.value(of: reading) }
            // A device that starts learning again within the batch (an episode became its new
            // normal) has no forest score for the rest of it: the fleet model does not flag them.
            let fleet = DeviceJudge.FleetView(score: forestRow.map { scores[$0] } ?? 0, outOfRange: outOfRange)
            let message = batch[index]
            let judgement: DeviceJudge.Judgement
            // One hash of the device id, however the reading is judged.
            let slot: [String: DeviceJudge.Memory].Index
            if let known = devices.index(forKey: reading.deviceID) {
                slot = known
            } else {
                devices[reading.deviceID] = DeviceJudge.Memory(channels: columns.count)
                learningDevices += 1
                slot = devices.index(forKey: reading.deviceID)!  // just added
            }
            if devices.values[slot].partition == message.partition && message.offset <= devices.values[slot].lastOffset
            {
                // Redelivered after a crash, and already in the restored state: judged again
                // (its output may not have reached the broker) but not learned from twice.
                var copy = devices.values[slot]
                judgement = judge.judge(
                    row, readingID: reading.id, deviceID: reading.deviceID,
                    time: Timestamp.secondsSinceEpoch(reading.ts), fleet: fleet, memory: &copy)
            } else {
                var firstChange = false
                // Judged in place: a copy out of the dictionary would copy the device's arrays too.
                judgement = Self.judge(
                    reading, judge: judge, row: row, fleet: fleet, at: message, batch: batchNumber,
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
        outcome.scored = pending.count
        (outcome.devicesLearning, outcome.devicesJudged) = (learningDevices, devices.count - learningDevices)
        if !settings.stateInMemory {
            for device in changed {
                guard let memory = devices[device] else { continue }
                snapshot.reset()
                memory.write(columns: columnNames, to: &snapshot)
                output.append(
                    topic: settings.stateTopic, key: device, value: snapshot.bytes, partition: memory.partition)
            }
        }
        classifyLogs(batch, classifier: models.log, scoredAt: scoredAt, into: &output, &outcome)
        return outcome
    }

    /// Judges one reading in place and notes where it came from; `firstChange` is set when
    /// this is the batch's first change to the device's memory.
    private static func judge(
        _ reading: Reading, judge: DeviceJudge, row: [Double], fleet: DeviceJudge.FleetView,
        at message: KafkaConsumerMessage, batch: Int, firstChange: inout Bool, memory: inout DeviceJudge.Memory
    ) -> DeviceJudge.Judgement {
        let judgement = judge.judge(
            row, readingID: reading.id, deviceID: reading.deviceID, time: Timestamp.secondsSinceEpoch(reading.ts),
            fleet: fleet, memory: &memory)
        (memory.partition, memory.lastOffset) = (message.partition, message.offset)
        firstChange = memory.batchMark != batch
        memory.batchMark = batch
        return judgement
    }

    // MARK: - Devices' state across replicas

    /// A model over other features makes what devices learned meaningless: they learn anew.
    private mutating func adopt(_ columns: [SensorFeature]) {
        guard columns != deviceColumns || columnNames.isEmpty else { return }
        (devices, deviceColumns, learningDevices) = ([:], columns, 0)
        columnNames = columns.map(\.rawValue).joined(separator: ",")
    }

    /// The input partitions of `batch` whose devices must be restored before it is scored
    /// (none when state is kept in memory only).
    package func partitionsToRestore(in batch: KafkaConsumerBatch) -> [Int32] {
        guard !settings.stateInMemory else { return [] }
        var missing: Set<Int32> = []
        for message in batch where !restoredPartitions.contains(message.partition) { missing.insert(message.partition) }
        return missing.sorted()
    }

    /// Takes in what the state topic holds for `partition` (device id -> state record); returns
    /// how many devices were restored and how many records were unusable (written for another
    /// model's features, or damaged: those devices learn afresh).
    package mutating func restore(
        partition: Int32, records: [[UInt8]: [UInt8]], columns: [SensorFeature]
    ) -> (restored: Int, discarded: Int) {
        adopt(columns)
        var (restored, discarded) = (0, 0)
        for (key, value) in records {
            guard
                let memory = DeviceJudge.Memory(snapshot: value, columns: columnNames, channels: columns.count),
                memory.partition == partition
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
        probabilities.removeAll(keepingCapacity: true)
        let start = ContinuousClock.now
        for (log, _) in pendingLogs {
            probabilities.append(classifier.probability(of: log.message, level: log.level))
        }
        outcome.logClassificationTime = ContinuousClock.now - start

        for (position, (log, index)) in pendingLogs.enumerated() {
            let probability = probabilities[position]
            let critical = classifier.isCritical(probability: probability)
            if critical { outcome.criticalLogs += 1 } else { outcome.routineLogs += 1 }
            let scored = ScoredEvent(
                event: .log(log), score: probability, anomaly: critical,
                severity: critical ? .critical : .none, model: classifier.version, scoredAt: scoredAt)
            writer.reset()
            writer.write(scored)
            let key = batch[index].key
            output.append(topic: settings.scoredTopic, key: key, value: writer.bytes)
            if critical { output.append(topic: settings.anomaliesTopic, key: key, value: writer.bytes) }
        }
    }

    /// Payload kept in a dead letter. A dead letter holds it twice (base64, and text when it
    /// is UTF-8), so an uncapped 1 MB input would make a record the broker refuses, and the
    /// partition would stall on it. The source partition and offset still lead to the original.
    static let deadLetterPayloadLimit = 64 * 1024

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
        output.append(topic: settings.deadLetterTopic, key: message.key, value: writer.bytes)
        outcome.deadLetters[code, default: 0] += 1
    }
}

/// The reading fields a sensor model may use as features.
package enum SensorFeature: String, CaseIterable, Sendable {
    case temperature, pressure, vibration

    func value(of reading: Reading) -> Double {
        switch self {
        case .temperature: reading.temperature
        case .pressure: reading.pressure
        case .vibration: reading.vibration
        }
    }

    /// The model's feature columns as reading fields, or why the model cannot score readings.
    package static func columns(for model: IsolationForest) -> Result<[SensorFeature], ModelMismatch> {
        var columns: [SensorFeature] = []
        for name in model.featureNames {
            guard let feature = SensorFeature(rawValue: name) else {
                return .failure(
                    ModelMismatch(
                        message: "model \(model.version) uses feature '\(name)'; readings have only "
                            + allCases.map(\.rawValue).joined(separator: ", ")))
            }
            columns.append(feature)
        }
        return .success(columns)
    }
}

package struct ModelMismatch: Error, CustomStringConvertible {
    let message: String
    package var description: String { message }
}
