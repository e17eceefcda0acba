// How well a detector did against the generator's truth, as on-call judges it (fault episodes
// caught, how fast, false pages per device-day) and reading by reading (precision, recall and
// F1 of the scored `anomaly` verdicts, overall and per anomaly kind). Pure: scored events in,
// a report out.
import Events
import Foundation
import Models

package struct Evaluation: Sendable {
    /// Tells which rule flagged a reading, given the model that scored it: the scorer's
    /// out-of-range rule (a feature beyond the training range by more than the tolerance)
    /// or the forest's own threshold. Either, both or (when the model differs) neither.
    package struct Attribution: Sendable {
        let modelVersion: String
        let threshold: Double
        /// Reading fields in the model's feature order, with their allowed ranges; nil when
        /// the rule is off or the artifact has no ranges.
        let bounds: [(feature: SensorFeature, range: ClosedRange<Double>)]?

        package init(model: IsolationForest, rangeTolerance: Double) throws {
            let columns = try model.featureNames.map { name in
                guard let field = SensorFeature(name: name) else {
                    throw GeneratorError(
                        .scoredFile, "model \(model.version) uses feature '\(name)', which readings do not have")
                }
                return field
            }
            modelVersion = model.version
            threshold = model.threshold
            bounds = model.trainingBounds(tolerance: rangeTolerance).map { Array(zip(columns, $0)) }
        }

        func outOfRange(_ reading: Reading) -> Bool {
            bounds?.contains { !$0.range.contains($0.feature.value(of: reading)) } ?? false
        }
    }

    struct Confusion: Sendable, Equatable {
        var truePositives = 0, falsePositives = 0, falseNegatives = 0, trueNegatives = 0

        var precision: Double { Self.ratio(truePositives, truePositives + falsePositives) }
        var recall: Double { Self.ratio(truePositives, truePositives + falseNegatives) }
        var f1: Double {
            let (p, r) = (precision, recall)
            if p.isNaN || r.isNaN { return .nan }
            return p + r == 0 ? 0 : 2 * p * r / (p + r)
        }

        /// nil-safe division: NaN when nothing was counted ("n/a" in the report).
        static func ratio(_ part: Int, _ whole: Int) -> Double { whole == 0 ? .nan : Double(part) / Double(whole) }
    }

    /// What happened to the readings of one truth kind (or to normal readings).
    struct KindCounts: Sendable, Equatable {
        var readings = 0
        var detected = 0
        var warning = 0
        var critical = 0
        var byRangeRule = 0
        var byForest = 0
        var recall: Double { Confusion.ratio(detected, readings) }
    }

    let attribution: Attribution?
    private(set) var overall = Confusion()
    private(set) var kinds: [String: KindCounts] = [:]
    /// Normal readings the detector flagged (the false positives), by how.
    private(set) var normal = KindCounts()
    private(set) var duplicates = 0
    private(set) var skippedLogs = 0
    private(set) var skippedWithoutTruth = 0
    /// Scored events whose model is not the one given for attribution.
    private(set) var otherModel = 0
    private var seen = Set<String>()
    /// Episodes and pages, from each device's readings in the order they were scored.
    private(set) var episodes = EpisodeTally()
    /// The same, for the readings of each model alone (the fleet model judges devices still
    /// learning their own normal, their own baseline the rest).
    private(set) var episodesByModel: [String: EpisodeTally] = [:]
    /// Each device's last reading time, and the seconds between a device's consecutive readings:
    /// how many device-days the readings stand for.
    private var lastSeen: [String: Double] = [:]
    private var intervals: [Double] = []
    /// Readings scored after a later reading of their device (a detector sees them out of time).
    private(set) var outOfOrder = 0

    package init(attribution: Attribution? = nil) {
        self.attribution = attribution
    }

    package var evaluated: Int {
        overall.truePositives + overall.falsePositives + overall.falseNegatives + overall.trueNegatives
    }

    /// Counts one scored event: readings with truth only, each id once.
    /// Adds every line of `file`; a line that is not a scored event is reported on stderr, not fatal.
    package mutating func add(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw GeneratorError(.scoredFile, "cannot read \(file)")
        }
        var bad: [Int] = []
        var badCount = 0
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard
                line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }
                )
            else { continue }
            do {
                add(try EventCodec.decodeScored(Array(line)))
            } catch {
                badCount += 1
                if bad.count < 5 { bad.append(index + 1) }
            }
        }
        if badCount > 0 {
            let lines = bad.map(String.init).joined(separator: ", ")
            FileHandle.standardError.write(
                Data(
                    """
                    evaluate: \(badCount) lines of \(file) are not scored events (lines \
                    \(lines)\(badCount > bad.count ? ", ..." : ""))\n
                    """
                    .utf8))
        }
    }

    package mutating func add(_ scored: ScoredEvent) {
        guard case .reading(let reading) = scored.event else {
            skippedLogs += 1
            return
        }
        guard let truth = reading.truth else {
            skippedWithoutTruth += 1
            return
        }
        // At-least-once delivery repeats events; each id counts once (the first verdict).
        guard seen.insert(reading.id).inserted else {
            duplicates += 1
            return
        }
        let fault = truth.anomaly ? truth.kind ?? "unspecified" : nil
        episodes.add(device: reading.deviceID, fault: fault, flagged: scored.anomaly)
        episodesByModel[scored.model, default: EpisodeTally()].add(
            device: reading.deviceID, fault: fault, flagged: scored.anomaly)
        if let seconds = Timestamp.secondsSinceEpoch(reading.ts) {
            if let last = lastSeen[reading.deviceID] {
                if seconds > last { intervals.append(seconds - last) }
                if seconds < last { outOfOrder += 1 }
            }
            lastSeen[reading.deviceID] = seconds
        }
        switch (truth.anomaly, scored.anomaly) {
        case (true, true): overall.truePositives += 1
        case (true, false): overall.falseNegatives += 1
        case (false, true): overall.falsePositives += 1
        case (false, false): overall.trueNegatives += 1
        }
        var counts = truth.anomaly ? kinds[truth.kind ?? "unspecified", default: KindCounts()] : normal
        counts.readings += 1
        if scored.anomaly {
            counts.detected += 1
            if scored.severity == .warning { counts.warning += 1 }
            if scored.severity == .critical { counts.critical += 1 }
            if let attribution {
                if scored.model != attribution.modelVersion {
                    otherModel += 1
                } else {
                    if attribution.outOfRange(reading) { counts.byRangeRule += 1 }
                    if scored.score >= attribution.threshold { counts.byForest += 1 }
                }
            }
        }
        if truth.anomaly { kinds[truth.kind ?? "unspecified"] = counts } else { normal = counts }
    }

    /// Device-days behind `readings`: their count times the median interval between two
    /// readings of one device.
    func deviceDays(readings: Int) -> Double {
        guard !intervals.isEmpty else { return 0 }
        let sorted = intervals.sorted()
        return Double(readings) * sorted[sorted.count / 2] / 86_400
    }

    /// The on-call view: episodes caught per kind, the median delay, false pages per device-day;
    /// then the same for each model's readings alone.
    var episodeLines: [String] {
        var tally = episodes
        tally.finish()
        var lines = ["episodes caught: " + Self.summary(tally, days: deviceDays(readings: tally.readings))]
        if episodesByModel.count > 1 {
            for (model, byModel) in episodesByModel.sorted(by: { $0.key < $1.key }) {
                var modelTally = byModel
                modelTally.finish()
                lines.append(
                    "  \(model) alone (\(modelTally.readings) readings): "
                        + Self.summary(modelTally, days: deviceDays(readings: modelTally.readings)))
            }
        }
        lines.append("kind         episodes    caught  recall  median delay")
        let order =
            AnomalyKind.allCases.map(\.rawValue) + tally.kinds.keys.filter { AnomalyKind(rawValue: $0) == nil }.sorted()
        for kind in order {
            guard let figures = tally.kinds[kind] else { continue }
            lines.append(
                kind.padding(toLength: 12, withPad: " ", startingAt: 0) + Self.column(figures.episodes, 9)
                    + Self.column(figures.caught, 10) + Self.format(figures.recall).leftPadded(8)
                    + (figures.medianDelay.map { String(format: "%.1f", $0) } ?? "n/a").leftPadded(14))
        }
        lines.append(
            "an episode is caught by a flag on one of its readings or the \(tally.grace) after; flags less than "
                + "\(tally.gap) readings apart are one page, false when it touches no episode")
        return lines
    }

    private static func summary(_ tally: EpisodeTally, days: Double) -> String {
        let recall = Self.format(tally.episodes == 0 ? .nan : Double(tally.caught) / Double(tally.episodes))
        let delay = tally.medianDelay.map { String(format: "%.1f", $0) } ?? "n/a"
        let rate = days > 0 ? String(format: "%.3f", Double(tally.falseEpisodes) / days) : "n/a"
        return "\(tally.caught) of \(tally.episodes) (\(recall)), median delay \(delay) readings; false episodes: "
            + "\(tally.falseEpisodes) in \(String(format: "%.1f", days)) device-days = \(rate) per device-day"
    }

    package var report: String {
        var lines: [String] = []
        let anomalous = overall.truePositives + overall.falseNegatives
        lines.append(
            "evaluated \(evaluated) readings with truth (\(anomalous) anomalous); skipped \(skippedLogs) log lines, "
                + "\(skippedWithoutTruth) readings without truth, \(duplicates) duplicates, "
                + "\(outOfOrder) out of their device's time order")
        lines.append(
            "overall  precision \(Self.format(overall.precision))  recall \(Self.format(overall.recall))  "
                + "F1 \(Self.format(overall.f1))  (TP \(overall.truePositives), FP \(overall.falsePositives), "
                + "FN \(overall.falseNegatives), TN \(overall.trueNegatives))")
        var falseAlarms =
            "normal readings flagged: \(normal.detected) of \(normal.readings) "
                + """
                (\(Self.percent(normal.detected, normal.readings))): \(normal.warning) warning, \(normal.critical) \
                critical
                """
        if attribution != nil {
            falseAlarms += "; \(normal.byRangeRule) by the range rule, \(normal.byForest) by the forest"
        }
        lines.append(falseAlarms)
        lines += episodeLines
        var header = "kind           readings  detected  recall   warning  critical"
        if attribution != nil { header += "  range rule  forest" }
        lines.append(header)
        let order =
            AnomalyKind.allCases.map(\.rawValue) + kinds.keys.filter { AnomalyKind(rawValue: $0) == nil }.sorted()
        for kind in order {
            guard let counts = kinds[kind] else { continue }
            var row =
                kind.padding(toLength: 12, withPad: " ", startingAt: 0)
                + Self.column(counts.readings, 11) + Self.column(counts.detected, 10)
                + Self.format(counts.recall).leftPadded(8) + Self.column(counts.warning, 10)
                + Self.column(counts.critical, 10)
            if attribution != nil { row += Self.column(counts.byRangeRule, 12) + Self.column(counts.byForest, 8) }
            lines.append(row)
        }
        if let attribution {
            lines.append(
                "range rule: a feature beyond the training range of \(attribution.modelVersion) "
                    + "by more than the tolerance; "
                        + """
                        forest: score at or above its threshold \(Self.format(attribution.threshold)) (a reading may \
                        count in both)
                        """
            )
            if otherModel > 0 {
                lines.append(
                    """
                    note: \(otherModel) detections came from another model than \(attribution.modelVersion) and \
                    are not attributed
                    """
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double) -> String { value.isNaN ? "n/a" : String(format: "%.4f", value) }

    private static func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "n/a" : String(format: "%.2f%%", 100 * Double(part) / Double(whole))
    }

    private static func column(_ value: Int, _ width: Int) -> String { String(value).leftPadded(width) }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
