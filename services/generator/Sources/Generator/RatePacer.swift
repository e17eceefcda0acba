// Paces generation to a rate: how many events may go now, or until when to wait. Pure (the
// caller passes the time), so it is tested without sleeping.

struct RatePacer: Sendable {
    enum Decision: Sendable, Equatable {
        case send(Int)
        case wait(until: ContinuousClock.Instant)
    }

    /// Events per second; 0 means as fast as possible.
    let rate: Double
    /// Once this far behind schedule (a slow broker, a paused process), the schedule moves
    /// on instead of bursting to catch up on everything missed.
    let maxLag: Duration
    /// Events go in batches of at least this many, or one every `minimumSpacing`, so a high
    /// rate costs one wake-up per batch rather than one per event.
    static let minimumSpacing = Duration.milliseconds(10)

    private var origin: ContinuousClock.Instant?
    /// Events granted since `origin`.
    private var granted = 0.0

    init(rate: Double, maxLag: Duration = .seconds(1)) {
        self.rate = rate
        self.maxLag = maxLag
    }

    /// How many of the next `limit` events may go at `now`. Event k (from 0) is due at
    /// origin + k / rate, the first one at once.
    mutating func decide(at now: ContinuousClock.Instant, limit: Int) -> Decision {
        guard rate > 0 else { return .send(limit) }
        let origin = self.origin ?? now
        self.origin = origin
        let due = (seconds(now - origin) * rate).rounded(.down) + 1
        let behind = due - granted
        let lagAllowance = seconds(maxLag) * rate
        if behind > lagAllowance + Double(limit) {
            // Forget the backlog beyond the allowance: pacing resumes from here.
            granted = due - lagAllowance
        }
        let minimumBatch = min(Double(limit), max(1, (rate * seconds(Self.minimumSpacing)).rounded(.down)))
        let available = min(Double(limit), due - granted)
        if available >= minimumBatch {
            granted += available
            return .send(Int(available))
        }
        // The instant the minimum batch is due: event number granted + minimumBatch - 1.
        return .wait(until: origin + .nanoseconds(Int64(((granted + minimumBatch - 1) / rate * 1e9).rounded())))
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
