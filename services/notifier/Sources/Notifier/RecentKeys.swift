// Remembers recently seen keys to drop duplicates: event ids (the scorer repeats a batch after
// a crash) and Alertmanager notifications (it retries, and several replicas may send one).
// Bounded by count, and optionally by age, so memory stays flat.
struct RecentKeys: Sendable {
    private let capacity: Int
    private let maxAge: Duration?
    private var seen: [String: ContinuousClock.Instant] = [:]
    /// Keys in insertion order (a ring), for eviction.
    private var order: [String] = []
    private var oldest = 0

    init(capacity: Int, maxAge: Duration? = nil) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.maxAge = maxAge
    }

    var count: Int { seen.count }

    /// True the first time `key` is seen (within the age limit); false for a duplicate.
    mutating func insert(_ key: String, now: ContinuousClock.Instant) -> Bool {
        evictExpired(now: now)
        if seen[key] != nil { return false }
        if seen.count == capacity { evictOldest() }
        seen[key] = now
        if order.count < capacity {
            order.append(key)
        } else {
            order[(oldest + seen.count - 1) % capacity] = key
        }
        return true
    }

    private mutating func evictExpired(now: ContinuousClock.Instant) {
        guard let maxAge else { return }
        while !seen.isEmpty, let insertedAt = seen[order[oldest]], now - insertedAt >= maxAge {
            evictOldest()
        }
    }

    private mutating func evictOldest() {
        seen[order[oldest]] = nil
        oldest = (oldest + 1) % capacity
    }
}
