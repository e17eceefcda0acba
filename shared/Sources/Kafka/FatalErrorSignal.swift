// Carries a fatal librdkafka error from its callback thread to the client's run(), which
// then ends with that error so the ServiceGroup (and the process) stops and can restart.

final class FatalErrorSignal: Sendable {
    private struct State {
        var error: KafkaError?
        var waiters: [Int: CheckedContinuation<KafkaError?, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Locked(State())

    /// The fatal error, once raised.
    var error: KafkaError? { state.withLock { $0.error } }

    /// Records the first fatal error and wakes every waiter.
    func raise(_ error: KafkaError) {
        let waiters = state.withLock { state -> [CheckedContinuation<KafkaError?, Never>] in
            guard state.error == nil else { return [] }
            state.error = error
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume(returning: error) }
    }

    /// Returns the fatal error when one is raised, or nil when the waiting task is cancelled.
    func wait() async -> KafkaError? {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let answer = state.withLock { state -> WaitAnswer in
                    if let error = state.error { return .now(error) }
                    if Task.isCancelled { return .now(nil) }
                    state.waiters[id] = continuation
                    return .later
                }
                if case .now(let result) = answer { continuation.resume(returning: result) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }

    /// What a new waiter gets: an answer at once (the error, or nil when already cancelled),
    /// or a place among the waiters.
    private enum WaitAnswer {
        case now(KafkaError?)
        case later
    }

    /// Waits for graceful shutdown or a fatal error, whichever comes first; returns the
    /// fatal error, or nil on shutdown (or cancellation).
    func waitForShutdownOrFatal(_ gracefulShutdown: @escaping @Sendable () async throws -> Void) async -> KafkaError? {
        await withTaskGroup(of: KafkaError?.self) { group in
            group.addTask { await self.wait() }
            group.addTask {
                try? await gracefulShutdown()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
