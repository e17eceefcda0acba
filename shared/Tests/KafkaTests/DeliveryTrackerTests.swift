// The producer's bookkeeping, checked synchronously without a broker.
import Testing
@testable import Kafka

@Suite struct DeliveryTrackerTests {
    private func batch(_ count: Int, topic: String = "t") -> KafkaProducerBatch {
        var batch = KafkaProducerBatch()
        for index in 0..<count { batch.append(topic: topic, key: "k", value: Array("v\(index)".utf8)) }
        return batch
    }

    private func tokenBase(_ action: DeliveryTracker<Int>.StartAction) throws -> UInt {
        guard case .enqueue(let base) = action else { throw KafkaError(.shutDown, "unexpected reject") }
        return base
    }

    @Test func aBatchCompletesOnlyWhenItsLastReportArrivesInAnyOrder() throws {
        var tracker = DeliveryTracker<Int>()
        let base = try tokenBase(tracker.start(batch(3), waiter: 7))
        #expect(tracker.deliver([DeliveryOutcome(token: base | 2, partition: 1, offset: 12, error: nil)]).isEmpty)
        #expect(tracker.deliver([DeliveryOutcome(token: base | 0, partition: 1, offset: 10, error: nil)]).isEmpty)
        let done = tracker.deliver([DeliveryOutcome(token: base | 1, partition: 1, offset: 11, error: nil)])
        #expect(done.count == 1)
        #expect(done[0].waiter == 7)
        let reports = try done[0].result.get()
        #expect(reports.map(\.offset) == [10, 11, 12])
        #expect(reports.allSatisfy { $0.topic == "t" && $0.partition == 1 })
        #expect(tracker.pendingMessages == 0)
    }

    @Test func reportsOfInterleavedBatchesCompleteEachBatch() throws {
        var tracker = DeliveryTracker<Int>()
        let first = try tokenBase(tracker.start(batch(2), waiter: 1))
        let second = try tokenBase(tracker.start(batch(1), waiter: 2))
        let done = tracker.deliver([
            DeliveryOutcome(token: first | 0, partition: 0, offset: 0, error: nil),
            DeliveryOutcome(token: second | 0, partition: 3, offset: 5, error: nil),
            DeliveryOutcome(token: first | 1, partition: 0, offset: 1, error: nil),
        ])
        #expect(Set(done.map(\.waiter)) == [1, 2])
    }

    @Test func oneFailedMessageFailsTheBatchWithTheReason() throws {
        var tracker = DeliveryTracker<Int>()
        let base = try tokenBase(tracker.start(batch(2), waiter: 1))
        let done = tracker.deliver([
            DeliveryOutcome(token: base | 0, partition: 0, offset: 0, error: nil),
            DeliveryOutcome(
                token: base | 1, partition: -1, offset: -1,
                error: KafkaError(.deliveryFailed, "Local: Message timed out")),
        ])
        #expect(throws: KafkaError.self) { try done[0].result.get() }
        guard case .failure(let error) = done[0].result else { return }
        #expect(error.code == .deliveryFailed)
        #expect(error.message.contains("1 of 2"))
        #expect(error.message.contains("Message timed out"))
    }

    @Test func messagesRefusedForAFullQueueFailTheBatchAsBackpressure() throws {
        var tracker = DeliveryTracker<Int>()
        let base = try tokenBase(tracker.start(batch(3), waiter: 1))
        #expect(tracker.refuse(tokenBase: base, [(2, KafkaError(.queueFull, "full"))]) == nil)
        let done = tracker.deliver([
            DeliveryOutcome(token: base | 0, partition: 0, offset: 0, error: nil),
            DeliveryOutcome(token: base | 1, partition: 0, offset: 1, error: nil),
        ])
        guard case .failure(let error) = done[0].result else {
            Issue.record("expected a queue-full failure")
            return
        }
        #expect(error.code == .queueFull)
        #expect(error.isRetriable)
    }

    @Test func afterShutdownNewBatchesAreRejectedAndWaitingOnesAreReportedLost() throws {
        var tracker = DeliveryTracker<Int>()
        _ = try tokenBase(tracker.start(batch(4), waiter: 1))
        tracker.stopAccepting()
        guard case .reject(let error) = tracker.start(batch(1), waiter: 2) else {
            Issue.record("a batch was accepted after shutdown")
            return
        }
        #expect(error.code == .shutDown)
        let abandoned = tracker.abandonAll()
        #expect(abandoned.count == 1)
        guard case .failure(let lost) = abandoned[0].result else { return }
        #expect(lost.message.contains("4 of 4"))
        #expect(tracker.pendingMessages == 0)
    }

    @Test func aPermanentFailureWinsOverQueueFullSoCallersDoNotResendPoison() throws {
        var tracker = DeliveryTracker<Int>()
        let base = try tokenBase(tracker.start(batch(3), waiter: 1))
        _ = tracker.refuse(tokenBase: base, [(0, KafkaError(.queueFull, "full"))])
        let done = tracker.deliver([
            DeliveryOutcome(
                token: base | 1, partition: 0, offset: 0,
                error: KafkaError(.messageTooLarge, "Broker: Message size too large", isRetriable: false)),
            DeliveryOutcome(token: base | 2, partition: 0, offset: 1, error: nil),
        ])
        guard case .failure(let error) = done[0].result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .messageTooLarge)
        #expect(!error.isRetriable)
    }

    @Test func aBatchPastItsDeadlineFailsAsTimedOutOnceAndItsLateReportsAreIgnored() throws {
        var tracker = DeliveryTracker<Int>()
        let base = try tokenBase(tracker.start(batch(3), waiter: 4))
        #expect(tracker.deliver([DeliveryOutcome(token: base | 0, partition: 0, offset: 0, error: nil)]).isEmpty)
        let expiry = tracker.expire(tokenBase: base, deadline: .milliseconds(300))
        let expired = try #require(expiry)
        #expect(expired.waiter == 4)
        guard case .failure(let error) = expired.result else { Issue.record("an expired batch succeeded"); return }
        #expect(error.code == .timedOut)
        #expect(error.isRetriable)
        #expect(error.message.hasPrefix("2 of 3 messages not acknowledged within"))
        #expect(tracker.pendingMessages == 0)
        // The late reports and a second expiry find nothing to complete.
        let lateReports = tracker.deliver([
            DeliveryOutcome(token: base | 1, partition: 0, offset: 1, error: nil),
            DeliveryOutcome(token: base | 2, partition: 0, offset: 2, error: nil),
        ])
        #expect(lateReports.isEmpty)
        let again = tracker.expire(tokenBase: base, deadline: .milliseconds(300))
        #expect(again == nil)
    }

    @Test func aDeadlineAfterTheBatchCompletedChangesNothing() throws {
        var tracker = DeliveryTracker<Int>()
        let base = try tokenBase(tracker.start(batch(1), waiter: 5))
        #expect(tracker.deliver([DeliveryOutcome(token: base | 0, partition: 2, offset: 9, error: nil)]).count == 1)
        let late = tracker.expire(tokenBase: base, deadline: .seconds(1))
        #expect(late == nil)
    }
}

@Suite struct FatalErrorSignalTests {
    @Test func waitersWakeWithTheFirstFatalErrorAndLaterWaitersGetItAtOnce() async {
        let signal = FatalErrorSignal()
        async let waited = signal.wait()
        try? await Task.sleep(for: .milliseconds(20))
        signal.raise(KafkaError(.fatal, "first"))
        signal.raise(KafkaError(.fatal, "second"))
        #expect(await waited?.message == "first")
        #expect(await signal.wait()?.message == "first")
    }

    @Test func aCancelledWaiterReturnsNil() async {
        let signal = FatalErrorSignal()
        let task = Task { await signal.wait() }
        try? await Task.sleep(for: .milliseconds(20))
        task.cancel()
        #expect(await task.value == nil)
        #expect(signal.error == nil)
    }
}

@Suite struct BackoffTests {
    @Test func waitsDoubleUpToTheMaximumAndStayThere() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(700))
        let waits = (0..<6).map { _ in backoff.next() }
        #expect(
            waits == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(700),
                .milliseconds(700), .milliseconds(700),
            ])
    }

    @Test func jitteredWaitsFallInTheUpperHalfOfTheirStep() {
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(8), jitter: true)
        for step in [1.0, 2, 4, 8, 8] {
            let wait = backoff.next()
            #expect(wait >= .seconds(step / 2) && wait <= .seconds(step), "step \(step) s gave \(wait)")
        }
    }
}
