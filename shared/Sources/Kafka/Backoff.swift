// The waits of every retry loop in the mesh: exponential, capped, optionally jittered. One
// value type instead of a hand-written `delay = min(delay * 2, cap)` in each loop.

/// Each `next()` returns the wait before the next try and doubles the one after it, up to
/// `maximum`. With `jitter`, a wait is drawn from the upper half of its step, so that
/// clients that failed together do not all retry at the same instant.
public struct Backoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    public let jitter: Bool
    private var step: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5), jitter: Bool = false) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = jitter
        step = initial
    }

    public mutating func next() -> Duration {
        let wait = jitter ? step / 2 + step / 2 * Double.random(in: 0...1) : step
        step = min(step * 2, maximum)
        return wait
    }
}
