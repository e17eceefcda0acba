// One verdict on a log line from three signals: the classifier's probability; a template its
// source has never said before, once the source is past its warm-up (with the classifier's
// probability, so a new "Started session" line is not an alert but a new "I/O error" line is);
// and a burst of one template against its own usual rate (one alert for the burst, not one per
// line). A template people marked "not an anomaly" is routine whatever the signals say. The
// scorer's service and `scorer classify` both judge through it.

/// Judges log lines in order, keeping each source's templates.
public struct LogJudge: Sendable {
    public struct Settings: Sendable, Equatable {
        public var templates = LogTemplateMiner.Settings()
        /// Lines a source says before a template it has never said counts as news.
        public var warmUpLines = 1000
        /// A new template is critical from this probability of the classifier (its own
        /// threshold, for lines of known templates, is higher). 1: new templates are no signal,
        /// the default until they are measured to page only when they should (BENCHMARKS.md).
        public var noveltyProbability = 1.0

        public init() {}
    }

    /// Which signal made a line critical.
    public enum Reason: String, Sendable, CaseIterable {
        case classifier
        case newTemplate = "new_template"
        case burst
    }

    public struct Verdict: Sendable, Equatable {
        public var critical: Bool
        /// The classifier's probability of critical.
        public var probability: Double
        public var reason: Reason?
        public var template: LogTemplateMiner.Match
        /// Why, in words, when critical: `new template on db-1: ...`, `template seen 1,840 times
        /// in 60 s, usually 2`, or the classifier's probability; or why a line is not, when people
        /// said its template is routine.
        public var explanation: String?
        /// Who said the line's template is routine (then it is not critical).
        public var routine: LogTemplateMiner.Label?
    }

    public let settings: Settings
    public var miner: LogTemplateMiner
    /// The line's token keys, reused from line to line.
    private var tokens: [UInt64] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
        miner = LogTemplateMiner(settings: settings.templates)
    }

    /// Judges `message` (UTF-8) of `source` at `time` (seconds) with `classifier`; the line
    /// came from input `partition` (where the source's state record is written).
    public mutating func judge(
        _ message: UnsafeBufferPointer<UInt8>, level: String?, source: String, time: Double,
        classifier: LogClassifier, partition: Int32 = 0
    ) -> Verdict {
        // Split once: the classifier's features and the template both start from the tokens.
        LogTokenizer.keys(of: message, into: &tokens)
        let probability = classifier.probability(tokens: tokens, level: level)
        let template = miner.add(tokens: tokens, message: message, source: source, time: time, partition: partition)
        var verdict = Verdict(critical: false, probability: probability, reason: nil, template: template)
        if let routine = template.routine {
            verdict.routine = routine
            verdict.explanation =
                "routine on \(source): \(routine.by) said not an anomaly at \(routine.at) (`\(template.text)`)"
        } else if classifier.isCritical(probability: probability) {
            verdict.critical = true
            verdict.reason = .classifier
            verdict.explanation = "classifier: probability \(Self.percent(probability)) of critical"
        } else if template.isNew, template.sourceLines > settings.warmUpLines, settings.noveltyProbability < 1,
            probability >= settings.noveltyProbability
        {
            verdict.critical = true
            verdict.reason = .newTemplate
            verdict.explanation =
                "new template on \(source): `\(template.text)`"
                + " (probability \(Self.percent(probability)))"
        } else if template.burstStarted {
            verdict.critical = true
            verdict.reason = .burst
            verdict.explanation =
                "template seen \(template.windowCount) times in \(Self.seconds(settings.templates.rateWindow)), "
                + "usually \(Self.usual(template.usualPerWindow)): `\(template.text)`"
        }
        return verdict
    }

    public mutating func judge(
        _ message: String, level: String? = nil, source: String, time: Double, classifier: LogClassifier,
        partition: Int32 = 0
    ) -> Verdict {
        var message = message
        return message.withUTF8 {
            judge($0, level: level, source: source, time: time, classifier: classifier, partition: partition)
        }
    }

    private static func percent(_ probability: Double) -> String {
        "\(Int((probability * 100).rounded()))%"
    }

    private static func seconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }

    private static func usual(_ count: Double) -> String {
        count < 10 ? String(Double(Int(count * 10)) / 10) : String(Int(count.rounded()))
    }
}
