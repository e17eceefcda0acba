// Log templates mined online, per source, as Drain does (He, Zhu, Zheng and Lyu, "Drain: An
// Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017): a line's masked tokens
// (LogTokenizer's) go down a tree of fixed depth (the token count, then the first tokens) to a
// short list of templates; the most similar one takes the line if enough of its positions agree,
// turning the positions that differ into wildcards, else the line starts a new template.
// Each template also counts how often it is said, so a burst of a routine line shows, and keeps
// what people said of it ("not an anomaly" in Slack). A source's templates are written as one
// state record, so a restarted scorer (or the replica that takes its partition) goes on from them.
import Events
import Foundation

/// The templates of every source, and how often each is said.
public struct LogTemplateMiner: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Leading tokens the tree branches on after the token count (Drain's depth minus 2).
        public var prefixTokens = 2
        /// Share of a template's positions (wildcards excepted) a line must repeat to join it.
        public var similarity = 0.5
        /// Templates one source keeps: the least recently used goes when another is needed.
        public var maxTemplatesPerSource = 500
        /// Sources kept: the least recently heard goes when another is needed.
        public var maxSources = 10_000
        /// A template's rate is counted in windows of this many seconds.
        public var rateWindow = 60.0
        /// A window with at least this many times the template's usual count (and at least
        /// `burstMinimum` lines) is a burst; one burst lasts until a window ends below that.
        /// 0: no bursts (the default until they are measured to page only when they should).
        public var burstFactor = 0.0
        public var burstMinimum = 20
        /// Windows of history a template needs before its rate counts as usual.
        public var burstHistory = 5

        public init() {}
    }

    /// The template a line joined.
    public struct Match: Sendable, Equatable {
        /// 12 hex digits: the source and the tokens of the line that started the template.
        public var id: String
        /// The line started the template.
        public var isNew: Bool
        /// Lines of the template so far, this one included.
        public var count: Int
        /// The template's text: its tokens as LogTokenizer masks them, `<*>` where its lines
        /// differ (at most `LogTemplateRef.maxTextBytes`).
        public var text: String
        /// Lines of the source so far, this one included.
        public var sourceLines: Int
        /// Lines of the template in the current rate window, this one included, and how many
        /// a window usually holds.
        public var windowCount: Int
        public var usualPerWindow: Double
        /// This line made the template's current window a burst: the first line of it.
        public var burstStarted: Bool
        /// Who said the template's lines are routine for the source, if someone did.
        public var routine: Label?
    }

    /// A person's "not an anomaly" on a template: its lines are routine for their source.
    public struct Label: Sendable, Equatable {
        /// Who said it (a Slack user id), and when (RFC 3339).
        public var by: String
        public var at: String

        public init(by: String, at: String) { (self.by, self.at) = (by, at) }
    }

    /// How often a template is said: lines per window, and the usual count (an exponentially
    /// weighted mean over windows, empty ones included).
    struct Rate: Sendable {
        var windowStart: Double
        var count = 0
        var usual = 0.0
        var windows = 0
        var bursting = false

        static let weight = 0.2

        /// Counts a line at `time`; true when it starts a burst.
        mutating func count(at time: Double, settings: Settings) -> Bool {
            if time >= windowStart + settings.rateWindow {
                let elapsed = ((time - windowStart) / settings.rateWindow).rounded(.down)
                let limit = Self.limit(usual: usual, settings: settings)
                if bursting && Double(count) < limit { bursting = false }
                usual += Self.weight * (Double(count) - usual)
                // Empty windows since: each pulls the usual count towards 0.
                usual *= Foundation.pow(1 - Self.weight, min(elapsed - 1, 1000))
                windows += Int(min(elapsed, 1000))
                windowStart += elapsed * settings.rateWindow
                count = 0
            }
            count += 1
            guard settings.burstFactor > 0, !bursting, windows >= settings.burstHistory,
                Double(count) >= Self.limit(usual: usual, settings: settings)
            else { return false }
            bursting = true
            return true
        }

        static func limit(usual: Double, settings: Settings) -> Double {
            max(Double(settings.burstMinimum), settings.burstFactor * max(usual, 1))
        }
    }

    /// A template: the tokens its lines share, `nil` where they differ.
    struct Template: Sendable {
        var id: String
        var keys: [UInt64]
        var words: [String?]
        var text: String
        var count = 1
        var lastUsed: UInt64
        var rate: Rate
        var routine: Label?

        /// Drain's similarity: the share of positions equal to the line's (wildcards count as
        /// unequal), and how many wildcards break ties (more is more general).
        func similarity(to keys: [UInt64]) -> (share: Double, wildcards: Int) {
            var equal = 0
            var wildcards = 0
            for index in keys.indices {
                if self.keys[index] == LogTemplateMiner.wildcard {
                    wildcards += 1
                } else if self.keys[index] == keys[index] {
                    equal += 1
                }
            }
            return (keys.isEmpty ? 1 : Double(equal) / Double(keys.count), wildcards)
        }

        static func text(_ words: [String?]) -> String {
            let text = words.map { $0 ?? "<*>" }.joined(separator: " ")
            guard text.utf8.count > LogTemplateRef.maxTextBytes else { return text }
            var cut = Substring(text)
            while cut.utf8.count > LogTemplateRef.maxTextBytes - 3 { cut = cut.dropLast() }
            return cut + "..."
        }
    }

    struct Source: Sendable {
        var templates: [Template] = []
        /// Template indices by tree leaf: the token count and the leading tokens.
        var leaves: [UInt64: [Int]] = [:]
        var lines = 0
        var lastUsed: UInt64 = 0
        /// The input partition its lines come from (they are keyed by source).
        var partition: Int32 = 0
        /// Its templates changed (one added, dropped, widened or labelled) since it was last
        /// written; and the time of its latest line, and of the line when it was written.
        var reshaped = false
        var latest = 0.0
        var writtenAt = -Double.infinity
        /// It has lines since it was last written (and is in `touched`).
        var touched = false
    }

    static let wildcard: UInt64 = 0

    public let settings: Settings
    var sources: [String: Source] = [:]
    var clock: UInt64 = 0
    private var keys: [UInt64] = []
    /// Sources with lines since they were last written.
    var touched: [String] = []
    /// Sources dropped for others (the cap of sources), with their partition: their records
    /// should go from the state topic too.
    var evicted: [(source: String, partition: Int32)] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Puts `message` (UTF-8), said at `time` (seconds), into `source`'s templates.
    public mutating func add(_ message: UnsafeBufferPointer<UInt8>, source: String, time: Double) -> Match {
        var tokens: [UInt64] = []
        LogTokenizer.forEachToken(in: message) { tokens.append($0.key) }
        return add(tokens: tokens, message: message, source: source, time: time)
    }

    /// `add`, for a line already tokenised (`LogTokenizer.keys`), so a caller that also
    /// classifies it splits it once.
    public mutating func add(
        tokens: [UInt64], message: UnsafeBufferPointer<UInt8>, source: String, time: Double, partition: Int32 = 0
    ) -> Match {
        clock &+= 1
        keys.removeAll(keepingCapacity: true)
        for key in tokens { keys.append(key == Self.wildcard ? 1 : key) }
        if sources[source] == nil && sources.count >= settings.maxSources { evictOldestSource() }
        var firstSince = false
        let match = sources[source, default: Source()].add(
            keys, message: message, source: source, time: time, partition: partition, settings: settings,
            clock: clock, firstSinceWritten: &firstSince)
        if firstSince { touched.append(source) }
        return match
    }

    public mutating func add(_ message: String, source: String, time: Double) -> Match {
        var message = message
        return message.withUTF8 { add($0, source: source, time: time) }
    }

    /// Drops the least recently heard source, noting it in `evicted`.
    mutating func evictOldestSource() {
        guard let oldest = sources.min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return }
        evicted.append((oldest.key, oldest.value.partition))
        sources[oldest.key] = nil
    }

    /// How many templates `source` holds.
    public func templateCount(source: String) -> Int {
        sources[source]?.templates.count ?? 0
    }
}

extension LogTemplateMiner.Source {
    mutating func add(
        _ keys: [UInt64], message: UnsafeBufferPointer<UInt8>, source: String, time: Double, partition: Int32,
        settings: LogTemplateMiner.Settings, clock: UInt64, firstSinceWritten: inout Bool
    ) -> LogTemplateMiner.Match {
        lines += 1
        lastUsed = clock
        self.partition = partition
        latest = max(latest, time)
        if !touched { (touched, firstSinceWritten) = (true, true) }
        let leaf = Self.leaf(keys, prefixTokens: settings.prefixTokens)
        var best: (index: Int, share: Double, wildcards: Int)?
        for index in leaves[leaf] ?? [] where templates[index].keys.count == keys.count {
            let (share, wildcards) = templates[index].similarity(to: keys)
            if share >= settings.similarity,
                best == nil || share > best!.share || (share == best!.share && wildcards > best!.wildcards)
            {
                best = (index, share, wildcards)
            }
        }
        if let best {
            templates[best.index].count += 1
            templates[best.index].lastUsed = clock
            let burstStarted = templates[best.index].rate.count(at: time, settings: settings)
            if templates[best.index].keys != keys {
                // The positions that differ become wildcards (their text is looked up only then).
                for position in keys.indices where templates[best.index].keys[position] != keys[position] {
                    templates[best.index].keys[position] = LogTemplateMiner.wildcard
                    templates[best.index].words[position] = nil
                }
                templates[best.index].text = LogTemplateMiner.Template.text(templates[best.index].words)
                reshaped = true
            }
            let template = templates[best.index]
            return .init(
                id: template.id, isNew: false, count: template.count, text: template.text, sourceLines: lines,
                windowCount: template.rate.count, usualPerWindow: template.rate.usual, burstStarted: burstStarted,
                routine: template.routine)
        }
        // The least recently used goes; what people labelled goes last.
        if templates.count >= settings.maxTemplatesPerSource,
            let oldest = templates.indices.min(by: {
                (templates[$0].routine != nil ? 1 : 0, templates[$0].lastUsed)
                    < (templates[$1].routine != nil ? 1 : 0, templates[$1].lastUsed)
            })
        {
            remove(at: oldest, prefixTokens: settings.prefixTokens)
        }
        reshaped = true
        let words = LogTokenizer.tokens(String(decoding: message, as: UTF8.self)).prefix(keys.count)
        var rate = LogTemplateMiner.Rate(windowStart: time)
        _ = rate.count(at: time, settings: settings)
        let template = LogTemplateMiner.Template(
            id: Self.id(source: source, keys: keys), keys: keys, words: words.map { $0 },
            text: LogTemplateMiner.Template.text(words.map { $0 }), lastUsed: clock, rate: rate)
        templates.append(template)
        leaves[leaf, default: []].append(templates.count - 1)
        return .init(
            id: template.id, isNew: true, count: 1, text: template.text, sourceLines: lines, windowCount: 1,
            usualPerWindow: 0, burstStarted: false, routine: nil)
    }

    /// Removes a template, moving the last one into its place.
    private mutating func remove(at index: Int, prefixTokens: Int) {
        let last = templates.count - 1
        let removedLeaf = Self.leaf(templates[index].keys, prefixTokens: prefixTokens)
        leaves[removedLeaf]?.removeAll { $0 == index }
        if leaves[removedLeaf]?.isEmpty == true { leaves[removedLeaf] = nil }
        if index != last {
            let movedLeaf = Self.leaf(templates[last].keys, prefixTokens: prefixTokens)
            if let slot = leaves[movedLeaf]?.firstIndex(of: last) { leaves[movedLeaf]![slot] = index }
            templates[index] = templates[last]
        }
        templates.removeLast()
    }

    /// The leaf of a line: its token count and its leading tokens. A template's leading tokens
    /// never become wildcards (only lines with the same ones reach it), so its leaf is found
    /// from its keys.
    static func leaf(_ keys: [UInt64], prefixTokens: Int) -> UInt64 {
        var hash = LogFeatures.fnvOffset ^ UInt64(keys.count)
        for key in keys.prefix(prefixTokens) { hash = LogFeatures.combine(hash, key) }
        return hash
    }

    static func id(source: String, keys: [UInt64]) -> String {
        var hash = LogFeatures.fnv1a(source.utf8)
        for key in keys { hash = LogFeatures.combine(hash, key) }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }
}

extension LogTokenizer {
    /// The key of every token of `line` (at most `maxTokens`), as the classifier's features and
    /// the templates hash them, into `keys` (emptied first).
    public static func keys(of line: UnsafeBufferPointer<UInt8>, into keys: inout [UInt64]) {
        keys.removeAll(keepingCapacity: true)
        withoutActuallyEscaping({ (key: UInt64) in keys.append(key) }) { append in
            forEachToken(in: line) { append($0.key) }
        }
    }
}

extension LogTokenizer.Token {
    /// The token's key, as the classifier's features hash it.
    var key: UInt64 {
        switch self {
        case .placeholder(let placeholder): placeholder.featureKey
        case .word(let bytes): LogFeatures.fnv1a(bytes)
        }
    }
}
