// /readyz: named checks (Kafka reachable, model loaded...) that must all pass before a
// service takes traffic. /healthz only says the process is alive.
import Foundation
import Synchronization

/// Answers within its timeout whatever a check does. A probe never waits for a check: each
/// check runs in a task of its own and reports back, and a check that is still running when
/// the next probe comes (it hangs, ignores cancellation, or waits on a dead broker) is joined
/// instead of started again, so a stuck check costs one task, not one per probe.
public final class ReadinessChecks: Sendable {
    public typealias Check = @Sendable () async throws -> Void

    public struct Report: Sendable, Equatable {
        public var isReady: Bool
        /// Check name to "ok" or the reason it failed.
        public var results: [String: String]
    }

    private struct Entry {
        let name: String
        let check: Check
        /// The run a probe started and nobody has seen finish yet.
        var running: Run?
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// Adds a check; it passes when it returns and fails when it throws. A check should not
    /// block its thread (run blocking calls on a queue of their own): it runs on Swift's
    /// shared pool, where a blocked thread is one fewer for everything else.
    public func add(_ name: String, _ check: @escaping Check) {
        entries.withLock { $0.append(Entry(name: name, check: check)) }
    }

    /// Runs every check concurrently (or joins its run still under way) and answers when all
    /// have answered or `timeout` has passed; a check without an answer by then fails.
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
                    run.onFinish { probe.record(name, $0) }
                }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    probe.expire { name in runs.first { $0.name == name }?.run.describeTimeout(timeout) ?? "timed out" }
                }
                probe.onAnswered { timer.cancel() }
            }
        } onCancel: {
            probe.expire { _ in "cancelled" }
        }
        return Report(isReady: results.values.allSatisfy { $0 == "ok" }, results: results)
    }

    /// Runs `check` in a task of its own, which no probe awaits: probes hear of its outcome.
    private func start(_ check: @escaping Check, as run: Run) {
        Task {
            let outcome: String
            do { try await check(); outcome = "ok" } catch { outcome = "\(error)" }
            // Forgotten before it is reported: the probe after this one starts a fresh run.
            entries.withLock { entries in
                if let index = entries.firstIndex(where: { $0.running === run }) { entries[index].running = nil }
            }
            run.finish(outcome)
        }
    }

    /// One run of one check, which any number of probes may wait on.
    private final class Run: Sendable {
        private struct State {
            var outcome: String?
            var waiters: [@Sendable (String) -> Void] = []
        }
        private let state = Mutex(State())
        let startedAt = ContinuousClock.now

        func finish(_ outcome: String) {
            let waiters = state.withLock { state in
                state.outcome = outcome
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0(outcome) }
        }

        /// Calls `waiter` with the outcome, at once when the run has already finished.
        func onFinish(_ waiter: @escaping @Sendable (String) -> Void) {
            let outcome = state.withLock { state -> String? in
                if state.outcome == nil { state.waiters.append(waiter) }
                return state.outcome
            }
            if let outcome { waiter(outcome) }
        }

        func describeTimeout(_ timeout: Duration) -> String {
            let running = ContinuousClock.now - startedAt
            if running < timeout + .milliseconds(500) { return "timed out after \(timeout)" }
            let seconds = Double(running.components.seconds) + Double(running.components.attoseconds) / 1e18
            return "timed out after \(timeout) (still running since \(String(format: "%.1f", seconds)) s ago)"
        }
    }

    /// One evaluation: collects answers and resumes its caller exactly once, when every
    /// check has answered or when it expires.
    private final class Probe: Sendable {
        private struct State {
            var pending: Set<String>
            var results: [String: String] = [:]
            var continuation: CheckedContinuation<[String: String], Never>?
            var answered = false
            var onAnswered: (@Sendable () -> Void)?
        }
        private let state: Mutex<State>

        init(names: [String]) { state = Mutex(State(pending: Set(names))) }

        func start(_ continuation: CheckedContinuation<[String: String], Never>) {
            let answer = state.withLock { state -> [String: String]? in
                if state.answered || state.pending.isEmpty {
                    state.answered = true
                    return state.results
                }
                state.continuation = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }

        func record(_ name: String, _ outcome: String) {
            answer { state in
                guard state.pending.remove(name) != nil else { return false }
                state.results[name] = outcome
                return state.pending.isEmpty
            }
        }

        /// Fails every check that has not answered, with the reason `reason(name)` gives.
        func expire(_ reason: (String) -> String) {
            answer { state in
                for name in state.pending { state.results[name] = reason(name) }
                state.pending = []
                return true
            }
        }

        /// Runs `action` once the probe has answered (at once if it already has).
        func onAnswered(_ action: @escaping @Sendable () -> Void) {
            let now = state.withLock { state -> Bool in
                if !state.answered { state.onAnswered = action }
                return state.answered
            }
            if now { action() }
        }

        private func answer(_ update: (inout State) -> Bool) {
            let (continuation, results, action) = state.withLock { state
                -> (CheckedContinuation<[String: String], Never>?, [String: String], (@Sendable () -> Void)?) in
                guard !state.answered, update(&state), let continuation = state.continuation else { return (nil, [:], nil) }
                state.answered = true
                state.continuation = nil
                defer { state.onAnswered = nil }
                return (continuation, state.results, state.onAnswered)
            }
            continuation?.resume(returning: results)
            action?()
        }
    }
}

import Kafka

extension ReadinessChecks {
    /// "Kafka reachable": the broker answers a metadata request within two seconds. The
    /// request blocks on the producer's own queue, not on the shared pool.
    public func addKafkaCheck(_ producer: KafkaProducer) {
        add("kafka") { _ = try await producer.metadata(allTopics: false, timeout: .seconds(2)) }
    }
}
