// /readyz: named checks (Kafka reachable, model loaded...) that must all pass before a
// service takes traffic. /healthz only says the process is alive.
import Foundation
import Synchronization

/// Answers within its timeout whatever a check does. A probe never waits for a check: each
/// check runs in a task of its own and reports back, and a check that is still running when
/// the next probe comes (it hangs, ignores cancellation, or waits on a dead broker) is joined
/// instead of started again, so a stuck check costs one task, not one per probe. A check
/// that has not answered by the deadline reads as its last outcome when that is recent
/// (`recentEnough`, 10 s by default): a broker that answers in 1 s stays ready under a
/// 0.5 s deadline, and a hung check turns "timed out" once its last outcome is old.
public final class ReadinessChecks: Sendable {
    public typealias Check = @Sendable () async throws -> Void

    public struct Report: Sendable, Equatable {
        public var isReady: Bool
        /// Check name to "ok" or the reason it failed.
        public var results: [String: String]
    }

    /// How old a finished check's outcome may be to stand in for a run that is late.
    public let recentEnough: Duration

    private struct Entry {
        let name: String
        let check: Check
        /// The run a probe started and nobody has seen finish yet.
        var running: Run?
        /// The last outcome a run reported, and when.
        var last: (outcome: String, at: ContinuousClock.Instant)?
    }

    private let entries = Mutex<[Entry]>([])

    public init(recentEnough: Duration = .seconds(10)) { self.recentEnough = recentEnough }

    /// Adds a check; it passes when it returns and fails when it throws. A check should not
    /// block its thread (run blocking calls on a queue of their own): it runs on Swift's
    /// shared pool, where a blocked thread is one fewer for everything else.
    public func add(_ name: String, _ check: @escaping Check) {
        entries.withLock { $0.append(Entry(name: name, check: check)) }
    }

    /// Runs every check concurrently (or joins its run still under way) and answers when all
    /// have answered or `timeout` has passed; a check without an answer by then fails,
    /// unless its last outcome is recent enough to stand in.
    public func evaluate(timeout: Duration = .seconds(3)) async -> Report {
        let runs = entries.withLock { entries in
            entries.indices.map { index -> (name: String, run: Run, startWith: Check?) in
                if let run = entries[index].running { return (entries[index].name, run, nil) }
                let run = Run()
                entries[index].running = run
                return (entries[index].name, run, entries[index].check)
            }
        }
        let probe = Probe(names: runs.map(\.name))
        let results = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                probe.start(continuation)
                for (name, run, check) in runs {
                    if let check { start(check, as: run) }
                    if let token = run.onFinish({ probe.record(name, Probe.Outcome(text: $0, passed: $0 == "ok")) }) {
                        // A run that outlives this probe must not keep it (and a closure per probe) alive.
                        probe.onAnswered { run.forget(token) }
                    }
                }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    probe.expire { name in
                        self.lateOutcome(of: name, run: runs.first { $0.name == name }?.run, timeout: timeout)
                    }
                }
                probe.onAnswered { timer.cancel() }
            }
        } onCancel: {
            probe.expire { _ in Probe.Outcome(text: "cancelled", passed: false) }
        }
        return Report(isReady: results.values.allSatisfy(\.passed), results: results.mapValues(\.text))
    }

    /// Runs `check` in a task of its own, which no probe awaits: probes hear of its outcome.
    private func start(_ check: @escaping Check, as run: Run) {
        Task {
            let outcome: String
            do { try await check(); outcome = "ok" } catch { outcome = "\(error)" }
            // Forgotten before it is reported: the probe after this one starts a fresh run.
            entries.withLock { entries in
                guard let index = entries.firstIndex(where: { $0.running === run }) else { return }
                entries[index].running = nil
                entries[index].last = (outcome, .now)
            }
            run.finish(outcome)
        }
    }

    /// What a check that missed the deadline reads as: its last outcome if recent, else "timed out".
    private func lateOutcome(of name: String, run: Run?, timeout: Duration) -> Probe.Outcome {
        let last = entries.withLock { entries in entries.first { $0.name == name }?.last }
        let late =
            run.map { "the check running for \(Self.seconds(ContinuousClock.now - $0.startedAt)) s has not answered" }
            ?? "no answer"
        if let last, ContinuousClock.now - last.at <= recentEnough {
            let age = Self.seconds(ContinuousClock.now - last.at)
            return Probe.Outcome(
                text: "\(last.outcome) (as of \(age) s ago; \(late) within \(timeout))", passed: last.outcome == "ok")
        }
        return Probe.Outcome(text: "timed out after \(timeout) (\(late))", passed: false)
    }

    private static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        return String(format: "%.1f", Double(whole) + Double(fraction) / 1e18)
    }

    /// One run of one check, which any number of probes may wait on.
    private final class Run: Sendable {
        private struct State {
            var outcome: String?
            var waiters: [Int: @Sendable (String) -> Void] = [:]
            var nextToken = 0
        }
        private let state = Mutex(State())
        let startedAt = ContinuousClock.now

        func finish(_ outcome: String) {
            let waiters = state.withLock { state in
                state.outcome = outcome
                defer { state.waiters = [:] }
                return state.waiters.values
            }
            waiters.forEach { $0(outcome) }
        }

        /// Calls `waiter` with the outcome: at once (returning nil) when the run has already
        /// finished, else when it does (returning a token for `forget`).
        func onFinish(_ waiter: @escaping @Sendable (String) -> Void) -> Int? {
            let (outcome, token) = state.withLock { state -> (String?, Int?) in
                if let outcome = state.outcome { return (outcome, nil) }
                state.nextToken += 1
                state.waiters[state.nextToken] = waiter
                return (nil, state.nextToken)
            }
            if let outcome { waiter(outcome) }
            return token
        }

        func forget(_ token: Int) {
            _ = state.withLock { $0.waiters.removeValue(forKey: token) }
        }
    }

    /// One evaluation: collects answers and resumes its caller exactly once, when every
    /// check has answered or when it expires, then runs its `onAnswered` actions.
    private final class Probe: Sendable {
        struct Outcome: Sendable {
            var text: String
            var passed: Bool
        }

        private struct State {
            var pending: Set<String>
            var results: [String: Outcome] = [:]
            var continuation: CheckedContinuation<[String: Outcome], Never>?
            var answered = false
            var onAnswered: [@Sendable () -> Void] = []
        }
        private let state: Mutex<State>

        init(names: [String]) { state = Mutex(State(pending: Set(names))) }

        func start(_ continuation: CheckedContinuation<[String: Outcome], Never>) {
            update { $0.continuation = continuation }
        }

        func record(_ name: String, _ outcome: Outcome) {
            update { state in
                if state.pending.remove(name) != nil { state.results[name] = outcome }
            }
        }

        /// Settles every check that has not answered with what `outcome(name)` says (asked
        /// outside the lock: it may take locks of its own).
        func expire(_ outcome: (String) -> Outcome) {
            let pending = state.withLock { $0.answered ? [] : $0.pending }
            let outcomes = pending.map { ($0, outcome($0)) }
            update { state in
                for (name, outcome) in outcomes where state.pending.remove(name) != nil {
                    state.results[name] = outcome
                }
            }
        }

        /// Runs `action` once the probe has answered (at once if it already has).
        func onAnswered(_ action: @escaping @Sendable () -> Void) {
            let now = state.withLock { state -> Bool in
                if !state.answered { state.onAnswered.append(action) }
                return state.answered
            }
            if now { action() }
        }

        /// Applies `change`; answers when nothing is pending and the caller is waiting.
        private func update(_ change: (inout State) -> Void) {
            let answer = state.withLock {
                state -> (CheckedContinuation<[String: Outcome], Never>, [String: Outcome], [@Sendable () -> Void])? in
                change(&state)
                guard !state.answered, state.pending.isEmpty, let continuation = state.continuation else { return nil }
                state.answered = true
                state.continuation = nil
                defer { state.onAnswered = [] }
                return (continuation, state.results, state.onAnswered)
            }
            guard let (continuation, results, actions) = answer else { return }
            continuation.resume(returning: results)
            actions.forEach { $0() }
        }
    }
}
