// Detection judged as on-call judges it: the fault episodes caught, how many readings it took,
// and the false episodes (pages nobody needed) per device-day. Feed every device's readings
// in time order, with the truth and the verdict; a device's readings may interleave with
// other devices'.

public struct EpisodeTally: Sendable {
    /// Caught episodes and their delays for one kind of fault.
    public struct Kind: Sendable, Equatable {
        public internal(set) var episodes = 0
        /// Readings from each caught episode's first reading to its first flagged one.
        public internal(set) var delays: [Int] = []
        public var caught: Int { delays.count }
        public var recall: Double { episodes == 0 ? .nan : Double(caught) / Double(episodes) }
        public var medianDelay: Double? { EpisodeTally.median(delays) }
    }

    private struct Device: Sendable {
        var readings = 0
        /// The fault episode in progress: its kind, readings so far, and whether caught.
        var fault: (kind: String, length: Int, caught: Bool)?
        /// The episode that ended last, while flags still count for it.
        var ended: (kind: String, length: Int, caught: Bool, since: Int)?
        /// The flagged run in progress (one page): normal readings since its last flag, and
        /// whether it touched a fault.
        var incident: (normalRun: Int, true: Bool)?
    }

    /// Readings after an episode in which a flag still catches it (a detector may need a
    /// reading or two to be sure).
    public let grace: Int
    /// Normal readings that end a flagged run: flags closer together are one page.
    public let gap: Int
    public private(set) var kinds: [String: Kind] = [:]
    public private(set) var falseEpisodes = 0
    public private(set) var trueIncidents = 0
    private var devices: [String: Device] = [:]

    public init(grace: Int = 3, gap: Int = 10) {
        self.grace = grace
        self.gap = gap
    }

    /// Counts one reading: `kind` is the fault's kind when the truth is anomalous, nil when normal.
    public mutating func add(device id: String, fault kind: String?, flagged: Bool) {
        var device = devices[id, default: Device()]
        device.readings += 1
        if let fault = device.fault, fault.kind != kind {
            // Over: the truth turned normal (flags may still catch it for `grace` readings) or
            // another fault began.
            device.ended = kind == nil ? (fault.kind, fault.length, fault.caught, 0) : nil
            device.fault = nil
        }
        var touchesFault = kind != nil
        if let kind {
            device.ended = nil
            var fault = device.fault ?? (kind, 0, false)
            if fault.length == 0 { kinds[kind, default: Kind()].episodes += 1 }
            if flagged && !fault.caught {
                kinds[kind, default: Kind()].delays.append(fault.length)
                fault.caught = true
            }
            fault.length += 1
            device.fault = fault
        } else if var ended = device.ended {
            ended.since += 1
            touchesFault = true
            if flagged && !ended.caught {
                kinds[ended.kind, default: Kind()].delays.append(ended.length + ended.since - 1)
                ended.caught = true
            }
            device.ended = ended.since >= grace ? nil : ended
        }
        if flagged {
            device.incident = (0, (device.incident?.true ?? false) || touchesFault)
        } else if var incident = device.incident {
            incident.normalRun += 1
            incident.true = incident.true || touchesFault
            device.incident = incident
            if incident.normalRun >= gap { closeIncident(&device) }
        }
        devices[id] = device
    }

    /// Ends every page still open: call once, after the last reading.
    public mutating func finish() {
        for (id, var device) in devices where device.incident != nil {
            closeIncident(&device)
            devices[id] = device
        }
    }

    public var readings: Int { devices.values.reduce(0) { $0 + $1.readings } }
    public var episodes: Int { kinds.values.reduce(0) { $0 + $1.episodes } }
    public var caught: Int { kinds.values.reduce(0) { $0 + $1.caught } }
    public var medianDelay: Double? { Self.median(kinds.values.flatMap(\.delays)) }

    /// False episodes per device-day, for readings `interval` seconds apart.
    public func falseEpisodesPerDeviceDay(interval: Double) -> Double {
        let days = Double(readings) * interval / 86_400
        return days > 0 ? Double(falseEpisodes) / days : .nan
    }

    private mutating func closeIncident(_ device: inout Device) {
        guard let incident = device.incident else { return }
        if incident.true { trueIncidents += 1 } else { falseEpisodes += 1 }
        device.incident = nil
    }

    static func median(_ values: [Int]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
    }
}
