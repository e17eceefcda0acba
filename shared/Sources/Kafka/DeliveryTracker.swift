// The producer's bookkeeping as a pure state machine: which batches wait for delivery
// reports, and who to tell when the last one arrives. No I/O and no locks: the producer
// holds it behind a lock and acts on what its methods return.

struct DeliveryTracker<Waiter> {
    typealias Completion = (waiter: Waiter, result: Result<[KafkaDeliveryReport], KafkaError>)

    enum StartAction {
        /// Enqueue the batch's messages with tokens `tokenBase | index`.
        case enqueue(tokenBase: UInt)
        case reject(KafkaError)
    }

    private struct Pending {
        var waiter: Waiter
        var reports: [KafkaDeliveryReport]
        var remaining: Int
        var failed = 0
        var refusedForQueue = 0
        /// The first failure, preferring one a retry cannot fix.
        var failure: KafkaError?

        mutating func record(_ error: KafkaError) {
            if error.code == .queueFull {
                refusedForQueue += 1
                return
            }
            failed += 1
            if failure == nil || (failure!.isRetriable && !error.isRetriable) { failure = error }
        }
    }

    /// A token is `batchID << indexBits | index`: one pointer-sized opaque per message, no allocation.
    static var indexBits: Int { 20 }
    private var pending: [UInt: Pending] = [:]
    private var nextBatchID: UInt = 1
    private(set) var isAccepting = true

    /// Messages whose delivery reports have not arrived yet.
    private(set) var pendingMessages = 0

    mutating func start(_ batch: KafkaProducerBatch, waiter: Waiter) -> StartAction {
        guard isAccepting else {
            return .reject(
                KafkaError(.shutDown, "the producer is shutting down and accepts no more messages", isRetriable: false))
        }
        let batchID = nextBatchID
        nextBatchID += 1
        let reports = (0..<batch.count).map {
            KafkaDeliveryReport(topic: batch.topic(ofEntry: $0), partition: -1, offset: -1)
        }
        pending[batchID] = Pending(waiter: waiter, reports: reports, remaining: batch.count)
        pendingMessages += batch.count
        return .enqueue(tokenBase: batchID << Self.indexBits)
    }

    /// librdkafka refused some messages at enqueue time; they will get no report.
    mutating func refuse(tokenBase: UInt, _ refused: [(index: Int, error: KafkaError)]) -> Completion? {
        let batchID = tokenBase >> Self.indexBits
        // Taken out while it changes, so its reports array stays uniquely referenced
        // (mutating a copy would duplicate the whole array); settle() puts it back.
        guard var entry = pending.removeValue(forKey: batchID) else { return nil }
        for (_, error) in refused {
            entry.remaining -= 1
            pendingMessages -= 1
            entry.record(error)
        }
        return settle(batchID, entry)
    }

    /// Records delivery reports; returns the batches they completed.
    mutating func deliver(_ outcomes: [DeliveryOutcome]) -> [Completion] {
        var completions: [Completion] = []
        var index = 0
        while index < outcomes.count {
            // Reports of one batch usually arrive together: look each batch up once.
            let batchID = outcomes[index].token >> Self.indexBits
            guard var entry = pending.removeValue(forKey: batchID) else { index += 1; continue }
            while index < outcomes.count, outcomes[index].token >> Self.indexBits == batchID {
                let outcome = outcomes[index]
                let position = Int(outcome.token & ((1 << Self.indexBits) - 1))
                entry.remaining -= 1
                pendingMessages -= 1
                if let failure = outcome.error {
                    entry.record(failure)
                } else if position < entry.reports.count {
                    entry.reports[position].partition = outcome.partition
                    entry.reports[position].offset = outcome.offset
                }
                index += 1
            }
            if let completion = settle(batchID, entry) { completions.append(completion) }
        }
        return completions
    }

    /// The sender's deadline passed first: the batch fails now as timed out (retriable), and
    /// reports that still come for it are ignored. Nil when it had already completed.
    mutating func expire(tokenBase: UInt, deadline: Duration) -> Completion? {
        guard let entry = pending.removeValue(forKey: tokenBase >> Self.indexBits) else { return nil }
        pendingMessages -= entry.remaining
        return (
            entry.waiter,
            .failure(
                KafkaError(
                    .timedOut,
                    "\(entry.remaining) of \(entry.reports.count) messages not acknowledged within \(deadline); "
                        + "they may still arrive, so a resend may duplicate them"))
        )
    }

    mutating func stopAccepting() { isAccepting = false }

    /// After the shutdown flush: every batch still waiting fails, naming how much was lost.
    mutating func abandonAll() -> [Completion] {
        let abandoned = pending.values.map { entry in
            (
                entry.waiter,
                Result<[KafkaDeliveryReport], KafkaError>.failure(
                    KafkaError(
                        .deliveryFailed,
                        "\(entry.remaining) of \(entry.reports.count) messages were not acknowledged before shutdown",
                        isRetriable: false))
            )
        }
        pending.removeAll()
        pendingMessages = 0
        return abandoned
    }

    private mutating func settle(_ batchID: UInt, _ entry: Pending) -> Completion? {
        guard entry.remaining == 0 else {
            pending[batchID] = entry
            return nil
        }
        pending[batchID] = nil
        let total = entry.reports.count
        // A permanent failure wins over "queue full": resending would only fail again.
        if let failure = entry.failure, !failure.isRetriable {
            return (
                entry.waiter,
                .failure(
                    KafkaError(
                        failure.code, "\(entry.failed) of \(total) messages not delivered: \(failure.message)",
                        librdkafkaCode: failure.librdkafkaCode, isRetriable: false))
            )
        }
        if entry.refusedForQueue > 0 {
            return (
                entry.waiter,
                .failure(
                    KafkaError(
                        .queueFull,
                        "\(entry.refusedForQueue) of \(total) messages refused because the local queue is full; "
                            + "\(total - entry.refusedForQueue - entry.failed) were delivered: slow down and resend"))
            )
        }
        if let failure = entry.failure {
            return (
                entry.waiter,
                .failure(
                    KafkaError(
                        .deliveryFailed, "\(entry.failed) of \(total) messages not delivered: \(failure.message)",
                        librdkafkaCode: failure.librdkafkaCode))
            )
        }
        return (entry.waiter, .success(entry.reports))
    }
}
