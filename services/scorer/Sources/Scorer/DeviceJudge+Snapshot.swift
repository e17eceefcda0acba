// A device's memory as the value of its `scorer.state` record, keyed by device id: what a
// replica that takes over the device's partition restores instead of learning it again.
import Models

extension DeviceJudge.Memory {
    /// Layout version; a record of another version is ignored (the device learns afresh).
    static let snapshotVersion = 1

    /// The memory as a state record, for a model with features `columns`.
    func write(columns: String, to bytes: inout SnapshotWriter) {
        bytes.integer(Self.snapshotVersion)
        bytes.string(columns)
        bytes.integer(Int(partition))
        bytes.integer(Int(lastOffset))
        bytes.string(episodeID)
        state.write(to: &bytes)
    }

    /// A memory read back from a state record; nil when the record was written for another
    /// model's features (`columns`, comma-separated), by another layout, or is damaged.
    init?(snapshot: [UInt8], columns: String, channels: Int) {
        var bytes = SnapshotReader(snapshot)
        guard bytes.integer() == Self.snapshotVersion, bytes.string() == .some(columns),
            let partition = bytes.integer().flatMap(Int32.init(exactly:)), let lastOffset = bytes.integer(),
            case .some(let episodeID) = bytes.string(),
            let state = DeviceDetector.State(reading: &bytes, channels: channels), bytes.isAtEnd
        else { return nil }
        self.init(state: state)
        (self.partition, self.lastOffset, self.episodeID) = (partition, Int64(lastOffset), episodeID)
    }
}
