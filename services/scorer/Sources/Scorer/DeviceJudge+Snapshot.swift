// A device's memory as the value of its `scorer.state` record, keyed by device id: what a
// replica that takes over the device's partition restores instead of learning it again.
import Events
import Models

extension DeviceJudge.Memory {
    /// Layout version; a record of another version is ignored (the device learns afresh), except
    /// the one before, 4, read as a memory to which no one has said "not an anomaly" yet.
    static let snapshotVersion = 5
    /// Version 4 lacks the latest episode's id and the detector's tolerances and peaks.
    static let snapshotVersionBeforeFeedback = 4

    /// The memory as a state record.
    func write(to bytes: inout SnapshotWriter) {
        bytes.integer(Self.snapshotVersion)
        bytes.string(profile)
        bytes.integer(columns.count)
        for column in columns { bytes.string(column) }
        bytes.integer(Int(partition))
        bytes.integer(Int(lastOffset))
        bytes.string(episodeID)
        bytes.string(lastEpisodeID)
        state.write(to: &bytes)
    }

    /// A memory read back from a state record; nil when the record was written by another
    /// layout, or is damaged. (Whether its channels are still the profile's is checked when
    /// the device's next reading comes.)
    init?(snapshot: [UInt8]) {
        var bytes = SnapshotReader(snapshot)
        guard let version = bytes.integer(),
            version == Self.snapshotVersion || version == Self.snapshotVersionBeforeFeedback,
            case .some(.some(let profile)) = bytes.string(),
            let count = bytes.integer(), (1...Reading.maxChannels).contains(count)
        else { return nil }
        let current = version == Self.snapshotVersion
        var columns: [String] = []
        for _ in 0..<count {
            guard case .some(.some(let column)) = bytes.string() else { return nil }
            columns.append(column)
        }
        guard let partition = bytes.integer().flatMap(Int32.init(exactly:)), let lastOffset = bytes.integer(),
            case .some(let episodeID) = bytes.string(),
            case .some(let lastEpisodeID) = current ? bytes.string() : .some(episodeID),
            let state = DeviceDetector.State(reading: &bytes, channels: columns.count, withTolerances: current),
            bytes.isAtEnd
        else { return nil }
        self.init(state: state, profile: profile, columns: columns)
        (self.partition, self.lastOffset, self.episodeID) = (partition, Int64(lastOffset), episodeID)
        self.lastEpisodeID = lastEpisodeID
    }
}
