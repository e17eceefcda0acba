// A device's detection state as bytes, so it can outlive the process that learned it (the
// scorer's changelog topic). Little-endian, fixed layout, doubles bit for bit: a restored
// state judges the next reading exactly as the original would have.
extension DeviceDetector.State {
    /// Appends the state to `bytes`: the learned baseline and detectors, then what feedback
    /// excused (each test's tolerance and the latest episode's peaks), last so that a reader of
    /// the older layout's records can stop before it.
    public func write(to bytes: inout SnapshotWriter) {
        bytes.integer(readings)
        bytes.integer(episodes)
        bytes.integer(residuals)
        bytes.double(firstTime ?? .nan)
        bytes.double(lastTime ?? .nan)
        bytes.flag(thresholds != nil)
        if let thresholds {
            bytes.double(thresholds.surprise)
            bytes.double(thresholds.cusum)
        }
        bytes.flag(openEpisode != nil)
        if let openEpisode {
            bytes.integer(openEpisode.number)
            bytes.integer(openEpisode.length)
            bytes.integer(openEpisode.normalRun)
        }
        bytes.integer(channels.count)
        for channel in channels {
            bytes.double(channel.level)
            bytes.double(channel.slope)
            bytes.double(channel.spread)
            bytes.double(channel.squares)
            bytes.double(channel.up)
            bytes.double(channel.down)
            bytes.double(channel.last)
            bytes.double(channel.repeatSurprise)
            bytes.double(channel.lastError)
            bytes.double(channel.lagProducts)
            bytes.double(channel.chartScale)
            bytes.double(channel.slopeSquares)
            bytes.double(channel.slopeSpread)
            bytes.double(channel.anchor)
            bytes.integer(channel.run)
            bytes.integer(channel.repeats)
        }
        bytes.integer(relation.count)
        for value in relation { bytes.double(value) }
        func write(_ tests: Tests) {
            bytes.double(tests.spike)
            bytes.double(tests.shift)
            bytes.double(tests.stuck)
            bytes.double(tests.drift)
        }
        for channel in channels {
            write(channel.tolerance)
            write(channel.peak)
        }
        bytes.double(relationTolerance)
        bytes.double(relationPeak)
    }

    /// Reads a state written by `write(to:)` for `channels` channels; nil if the bytes are
    /// cut short, or describe another number of channels. `withTolerances: false` reads a
    /// record written before feedback existed (the scorer's layout 4), which ends before the
    /// tolerances: nothing is excused, no episode has peaks.
    public init?(reading bytes: inout SnapshotReader, channels expected: Int, withTolerances: Bool = true) {
        self.init(channels: expected)
        guard let readings = bytes.integer(), let episodes = bytes.integer(), let residuals = bytes.integer(),
            let firstTime = bytes.double(), let lastTime = bytes.double(), let learned = bytes.flag()
        else { return nil }
        (self.readings, self.episodes, self.residuals) = (readings, episodes, residuals)
        (self.firstTime, self.lastTime) = (firstTime.isNaN ? nil : firstTime, lastTime.isNaN ? nil : lastTime)
        if learned {
            guard let surprise = bytes.double(), let cusum = bytes.double() else { return nil }
            thresholds = Thresholds(surprise: surprise, cusum: cusum)
        }
        guard let open = bytes.flag() else { return nil }
        if open {
            guard let number = bytes.integer(), let length = bytes.integer(), let normalRun = bytes.integer() else {
                return nil
            }
            openEpisode = (number, length, normalRun)
        }
        guard bytes.integer() == expected else { return nil }
        for c in 0..<expected {
            var values = [Double]()
            for _ in 0..<14 {
                guard let value = bytes.double() else { return nil }
                values.append(value)
            }
            guard let run = bytes.integer(), let repeats = bytes.integer() else { return nil }
            channels[c] = Channel(
                level: values[0], slope: values[1], spread: values[2], squares: values[3], up: values[4],
                down: values[5], last: values[6], run: run, repeats: repeats, repeatSurprise: values[7],
                lastError: values[8], lagProducts: values[9], chartScale: values[10], slopeSquares: values[11],
                slopeSpread: values[12], anchor: values[13])
        }
        guard bytes.integer() == relation.count else { return nil }
        for index in relation.indices {
            guard let value = bytes.double() else { return nil }
            relation[index] = value
        }
        guard withTolerances else { return }
        func tests() -> Tests? {
            guard let spike = bytes.double(), let shift = bytes.double(), let stuck = bytes.double(),
                let drift = bytes.double()
            else { return nil }
            return Tests(spike: spike, shift: shift, stuck: stuck, drift: drift)
        }
        for c in 0..<expected {
            guard let tolerance = tests(), let peak = tests() else { return nil }
            (channels[c].tolerance, channels[c].peak) = (tolerance, peak)
        }
        guard let relationTolerance = bytes.double(), let relationPeak = bytes.double() else { return nil }
        (self.relationTolerance, self.relationPeak) = (relationTolerance, relationPeak)
    }
}

/// Builds a snapshot: fixed-width little-endian integers and doubles, length-prefixed strings.
public struct SnapshotWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    public mutating func integer(_ value: Int) { append(UInt64(bitPattern: Int64(value))) }
    public mutating func double(_ value: Double) { append(value.bitPattern) }
    public mutating func flag(_ value: Bool) { bytes.append(value ? 1 : 0) }
    /// nil and "" differ: nil is written as length −1.
    public mutating func string(_ value: String?) {
        guard let value else { return integer(-1) }
        integer(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    private mutating func append(_ word: UInt64) {
        withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what a `SnapshotWriter` wrote, in the same order; every read is nil past the end.
public struct SnapshotReader {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// True when every byte was read.
    public var isAtEnd: Bool { position == bytes.count }

    public mutating func integer() -> Int? {
        word().flatMap { Int(exactly: Int64(bitPattern: $0)) }
    }
    public mutating func double() -> Double? { word().map(Double.init(bitPattern:)) }
    public mutating func flag() -> Bool? {
        guard position < bytes.count, bytes[position] <= 1 else { return nil }
        defer { position += 1 }
        return bytes[position] == 1
    }
    /// `.some(nil)` for a nil that was written; nil when the bytes are cut short.
    public mutating func string() -> String?? {
        guard let length = integer() else { return nil }
        if length == -1 { return .some(nil) }
        guard length >= 0, length <= bytes.count - position else { return nil }
        defer { position += length }
        return .some(String(decoding: bytes[position..<position + length], as: UTF8.self))
    }

    private mutating func word() -> UInt64? {
        guard bytes.count - position >= 8 else { return nil }
        defer { position += 8 }
        return UInt64(
            littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: UInt64.self) })
    }
}
