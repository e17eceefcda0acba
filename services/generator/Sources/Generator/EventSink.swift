// What every target does with a batch, and what deliveries in flight share: the drain
// deadline of a graceful shutdown and the count of failed attempts.
import Synchronization

package enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    /// Not acknowledged when shutdown's drain deadline passed (or the client closed).
    case abandoned
}

/// A target for batches. `deliver` returns when the target has acknowledged the whole batch,
/// retrying what can be retried, or `.abandoned` once the context's drain deadline has
/// passed; it throws a `GeneratorError` when trying again cannot help (a refused request).
package protocol EventSink: Sendable {
    /// What the summary calls the target, e.g. `kafka topic readings`.
    var name: String { get }
    var format: BatchEncoder.Format { get }
    func deliver(_ batch: OutgoingBatch, context: DeliveryContext) async throws -> DeliveryOutcome
}

/// What deliveries in flight share: the drain deadline set when graceful shutdown begins
/// (until then, batches keep retrying), and the count of failed attempts.
package final class DeliveryContext: Sendable {
    private struct State {
        var deadline: ContinuousClock.Instant?
        var expired = false
        var waiters: [Int: @Sendable () -> Void] = [:]
        var nextToken = 0
    }

    private let state = Mutex(State())
    private let failures = Atomic<Int>(0)
    private let metrics: GeneratorMetrics

    package init(metrics: GeneratorMetrics) { self.metrics = metrics }

    /// Starts the countdown; later calls keep the first deadline. At the deadline, every
    /// operation waiting in `unlessExpired` is let go.
    func beginDrain(timeout: Duration) {
        let deadline = ContinuousClock.Instant.now + timeout
        let started = state.withLock { state -> Bool in
            guard state.deadline == nil else { return false }
            state.deadline = deadline
            return true
        }
        guard started else { return }
        // One timer for the whole shutdown, not one per batch.
        Task {
            try? await Task.sleep(until: deadline)
            let waiters = state.withLock { state in
                state.expired = true
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for release in waiters { release() }
        }
    }

    /// Shutdown has begun: generate nothing more.
    var isDraining: Bool { state.withLock { $0.deadline != nil } }

    var hasExpired: Bool {
        Task.isCancelled
            || state.withLock { state in state.expired || state.deadline.map { ContinuousClock.now >= $0 } ?? false }
    }

    /// Counts a failed attempt to deliver (metric and summary); `reason` is from a fixed set.
    func attemptFailed(reason: String) {
        failures.add(1, ordering: .relaxed)
        metrics.sendFailed(reason: reason)
    }

    var failedAttempts: Int { failures.load(ordering: .relaxed) }

    /// Sleeps for `duration`, cut short by the deadline. False when the deadline passed or
    /// the task was cancelled, so the caller gives up.
    func sleep(_ duration: Duration) async -> Bool {
        var until = ContinuousClock.now + duration
        // Short slices, so a deadline set while sleeping is noticed soon.
        while ContinuousClock.now < until {
            if hasExpired { return false }
            do { try await Task.sleep(until: min(until, .now + .milliseconds(100))) } catch { return false }
            if let deadline = state.withLock({ $0.deadline }) { until = min(until, deadline) }
        }
        return !hasExpired
    }

    /// The result of `operation`, or nil when the drain deadline passes (or this task is
    /// cancelled) first. A send waiting for an acknowledgement does not notice either, and
    /// shutdown must not wait for Kafka's 30 s delivery timeout: so the operation runs in
    /// a task of its own and is left to finish there (the producer's own shutdown settles it).
    func unlessExpired<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        let first = FirstResult<T?>()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                first.wait(continuation)
                let token = state.withLock { state -> Int? in
                    guard !state.expired else { return nil }
                    state.nextToken += 1
                    state.waiters[state.nextToken] = { first.resume(.success(nil)) }
                    return state.nextToken
                }
                guard let token else { return first.resume(.success(nil)) }
                Task {
                    do { first.resume(.success(try await operation())) } catch { first.resume(.failure(error)) }
                    _ = self.state.withLock { $0.waiters.removeValue(forKey: token) }
                }
            }
        } onCancel: {
            first.resume(.success(nil))
        }
        return try result.get()
    }
}

/// A continuation resumed by whichever result comes first; later ones are dropped.
private final class FirstResult<T: Sendable>: Sendable {
    private let state = Mutex<
        (continuation: CheckedContinuation<Result<T, any Error>, Never>?, early: Result<T, any Error>?)
    >((nil, nil))

    func wait(_ continuation: CheckedContinuation<Result<T, any Error>, Never>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<Result<T, any Error>, Never>? in
            if let continuation = state.continuation {
                state.continuation = nil
                state.early = result  // marks it resumed
                return continuation
            }
            if state.early == nil { state.early = result }
            return nil
        }
        continuation?.resume(returning: result)
    }
}
