// What the template miner keeps beyond one process: what people said of a template ("not an
// anomaly"), and each source's templates as one state record (the scorer's `scorer.state` topic),
// so a restart or a rebalance does not forget them, nor what people taught.

extension LogTemplateMiner {
    /// Marks the templates `ids` of `source` as routine (a person's "not an anomaly"): their
    /// lines no longer alert, whatever the classifier or their rate says. Returns the ids found;
    /// marking one twice keeps the first label.
    public mutating func markRoutine(source: String, templates ids: [String], label: Label) -> [String] {
        guard var held = sources[source] else { return [] }
        var found: [String] = []
        for index in held.templates.indices where ids.contains(held.templates[index].id) {
            found.append(held.templates[index].id)
            if held.templates[index].routine == nil {
                held.templates[index].routine = label
                held.reshaped = true
            }
        }
        if held.reshaped && !held.touched {
            held.touched = true
            touched.append(source)
        }
        sources[source] = held
        return found
    }

    /// The sources whose record should be written now: their templates changed, or their
    /// counts have not been written for `interval` seconds (of their lines' time). Each is
    /// then counted as written.
    public mutating func sourcesToWrite(interval: Double) -> [String] {
        var due: [String] = []
        var waiting: [String] = []
        for source in touched {
            guard var held = sources[source], held.touched else { continue }
            if held.reshaped || held.latest - held.writtenAt >= interval {
                (held.reshaped, held.touched, held.writtenAt) = (false, false, held.latest)
                sources[source] = held
                due.append(source)
            } else {
                waiting.append(source)
            }
        }
        touched = waiting
        return due
    }

    /// The sources dropped for others since the last call, with their partitions, whose records
    /// should be deleted from the state topic (a tombstone each); a source heard again since is
    /// not among them.
    public mutating func takeEvicted() -> [(source: String, partition: Int32)] {
        defer { evicted.removeAll() }
        return evicted.filter { sources[$0.source] == nil }
    }

    /// Layout version of a source's record.
    static let snapshotVersion = 1
    /// A record stays below this many bytes (a Kafka message is at most 1 MB by default, and a
    /// record the broker refuses would stall the partition): the most recently used templates,
    /// labelled ones first, are written until it is reached.
    public static let maxRecordBytes = 512 * 1024

    /// Writes `source`'s templates (least recently used first) as a state record; returns the
    /// input partition its lines come from, or nil when the miner does not hold it.
    public func write(source: String, to bytes: inout SnapshotWriter) -> Int32? {
        guard let held = sources[source] else { return nil }
        bytes.integer(Self.snapshotVersion)
        bytes.integer(Int(held.partition))
        bytes.integer(held.lines)
        bytes.double(held.latest)
        // Labelled first, then the most recently used, while they fit; written oldest first.
        var kept: [Template] = []
        var size = 64 + source.utf8.count
        for template in held.templates.sorted(by: {
            ($0.routine != nil ? 1 : 0, $0.lastUsed) > ($1.routine != nil ? 1 : 0, $1.lastUsed)
        }) {
            let cost =
                128 + template.id.utf8.count + template.words.reduce(0) { $0 + 24 + ($1?.utf8.count ?? 0) }
                + (template.routine.map { $0.by.utf8.count + $0.at.utf8.count } ?? 0)
            guard size + cost <= Self.maxRecordBytes else { continue }
            size += cost
            kept.append(template)
        }
        bytes.integer(kept.count)
        for template in kept.sorted(by: { $0.lastUsed < $1.lastUsed }) {
            bytes.string(template.id)
            bytes.integer(template.count)
            bytes.integer(template.keys.count)
            for (key, word) in zip(template.keys, template.words) {
                bytes.integer(Int(Int64(bitPattern: key)))
                bytes.string(word)
            }
            bytes.double(template.rate.windowStart)
            bytes.integer(template.rate.count)
            bytes.double(template.rate.usual)
            bytes.integer(template.rate.windows)
            bytes.flag(template.rate.bursting)
            bytes.flag(template.routine != nil)
            if let routine = template.routine {
                bytes.string(routine.by)
                bytes.string(routine.at)
            }
        }
        return held.partition
    }

    /// Takes back `source`'s templates from its state record when it was written for input
    /// `partition`; false when it was not, or is of another layout or damaged (the source then
    /// learns its templates afresh).
    public mutating func restore(source: String, snapshot: [UInt8], partition expected: Int32) -> Bool {
        guard let held = Self.source(snapshot: snapshot, settings: settings, clock: &clock),
            held.partition == expected
        else { return false }
        if sources[source] == nil && sources.count >= settings.maxSources { evictOldestSource() }
        sources[source] = held
        return true
    }

    /// A source read from its state record; nil when the record is of another layout or damaged.
    static func source(snapshot: [UInt8], settings: Settings, clock: inout UInt64) -> Source? {
        var bytes = SnapshotReader(snapshot)
        guard bytes.integer() == Self.snapshotVersion,
            let partition = bytes.integer().flatMap(Int32.init(exactly:)), let lines = bytes.integer(),
            let latest = bytes.double(), let count = bytes.integer(), count >= 0, count <= 100_000
        else { return nil }
        var held = Source()
        (held.partition, held.lines, held.latest, held.writtenAt) = (partition, lines, latest, latest)
        for _ in 0..<count {
            guard case .some(.some(let id)) = bytes.string(), let lines = bytes.integer(),
                let width = bytes.integer(), (0...LogTokenizer.maxTokens).contains(width)
            else { return nil }
            var keys: [UInt64] = []
            var words: [String?] = []
            for _ in 0..<width {
                guard let key = bytes.integer(), case .some(let word) = bytes.string() else { return nil }
                keys.append(UInt64(bitPattern: Int64(key)))
                words.append(word)
            }
            guard let windowStart = bytes.double(), let windowCount = bytes.integer(), let usual = bytes.double(),
                let windows = bytes.integer(), let bursting = bytes.flag(), let labelled = bytes.flag()
            else { return nil }
            var routine: Label?
            if labelled {
                guard case .some(.some(let by)) = bytes.string(), case .some(.some(let at)) = bytes.string() else {
                    return nil
                }
                routine = Label(by: by, at: at)
            }
            clock &+= 1
            var rate = Rate(windowStart: windowStart)
            (rate.count, rate.usual, rate.windows, rate.bursting) = (windowCount, usual, windows, bursting)
            held.templates.append(
                Template(
                    id: id, keys: keys, words: words, text: Template.text(words), count: lines, lastUsed: clock,
                    rate: rate, routine: routine))
        }
        guard bytes.isAtEnd else { return nil }
        // A smaller cap than the writer's keeps the labelled ones, then the most recently used.
        if held.templates.count > settings.maxTemplatesPerSource {
            held.templates = Array(
                held.templates.sorted {
                    ($0.routine != nil ? 1 : 0, $0.lastUsed) > ($1.routine != nil ? 1 : 0, $1.lastUsed)
                }.prefix(settings.maxTemplatesPerSource)
            ).sorted { $0.lastUsed < $1.lastUsed }
        }
        for index in held.templates.indices {
            held.leaves[Source.leaf(held.templates[index].keys, prefixTokens: settings.prefixTokens), default: []]
                .append(index)
        }
        held.lastUsed = clock
        return held
    }

    /// Drops the sources whose lines come from `partitions` (a rebalance moved them: whoever
    /// owns a partition next restores its sources).
    public mutating func forget(partitions: Set<Int32>) {
        guard !partitions.isEmpty else { return }
        sources = sources.filter { !partitions.contains($0.value.partition) }
    }

    /// The sources held, for tests and metrics.
    public var sourceNames: [String] { Array(sources.keys) }
}
