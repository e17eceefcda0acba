// Several batches' output in flight at once, settled strictly in consumption order: a batch's
// offsets are stored when its own output and every earlier batch's were acknowledged.
// Waiting for each batch before pulling the next would cap throughput at one batch per
// broker round trip; settling only when the next batch arrives would leave offsets
// unstored whenever traffic pauses. So a settler task settles each batch as soon as its
// delivery completes, while the consuming task goes on.

/// Runs `produce`, which submits entries in order, beside a settler that hands each entry to
/// `settle` in the same order, with at most `depth` entries waiting. `settle` returning false
/// (delivery given up, e.g. at shutdown) stops everything: nothing after it is settled, so
/// its input is consumed again later. An error from either side cancels the other.
package func runInOrderPipeline<Entry: Sendable>(
    depth: Int,
    produce: @escaping @Sendable (_ submit: @Sendable (Entry) async -> Bool) async throws -> Void,
    settle: @escaping @Sendable (Entry) async throws -> Bool
) async throws {
    let queue = SettlementQueue<Entry>(depth: depth)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            do {
                while let entry = await queue.take() {
                    guard try await settle(entry) else { break }
                }
                await queue.close()
            } catch {
                await queue.close()
                throw error
            }
        }
        group.addTask {
            do {
                try await produce { await queue.put($0) }
                await queue.finish()
            } catch {
                await queue.close()
                throw error
            }
        }
        // The first error ends the group, which cancels the other side.
        while try await group.next() != nil {}
    }
}

/// A bounded FIFO between the consuming task and the settler.
actor SettlementQueue<Entry: Sendable> {
    private enum State { case open, finished, closed }

    private let depth: Int
    private var items: [Entry] = []
    private var state = State.open
    private var spaceWaiters: [CheckedContinuation<Bool, Never>] = []
    private var itemWaiter: CheckedContinuation<Entry?, Never>?

    init(depth: Int) {
        precondition(depth >= 1, "the queue holds at least one entry")
        self.depth = depth
    }

    /// Adds an entry, waiting while `depth` are queued. False once the queue is closed.
    func put(_ entry: Entry) async -> Bool {
        while state == .open && items.count >= depth {
            guard await withCheckedContinuation({ spaceWaiters.append($0) }) else { return false }
        }
        guard state == .open else { return false }
        if let waiter = itemWaiter {
            itemWaiter = nil
            waiter.resume(returning: entry)
        } else {
            items.append(entry)
        }
        return true
    }

    /// The oldest entry; nil once the queue is finished and drained, or closed.
    func take() async -> Entry? {
        if !items.isEmpty {
            let entry = items.removeFirst()
            if !spaceWaiters.isEmpty { spaceWaiters.removeFirst().resume(returning: true) }
            return entry
        }
        guard state == .open else { return nil }
        return await withCheckedContinuation { itemWaiter = $0 }
    }

    /// No more entries will come; the settler drains what is queued.
    func finish() {
        if state == .open { state = .finished }
        itemWaiter?.resume(returning: nil)
        itemWaiter = nil
    }

    /// Stop: queued entries are dropped, waiting producers and the settler are released.
    func close() {
        state = .closed
        items.removeAll()
        spaceWaiters.forEach { $0.resume(returning: false) }
        spaceWaiters.removeAll()
        itemWaiter?.resume(returning: nil)
        itemWaiter = nil
    }
}
