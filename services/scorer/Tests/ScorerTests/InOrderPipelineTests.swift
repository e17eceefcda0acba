// Batches settle in consumption order, promptly, and never past one that was not delivered.
import Testing
@testable import Scorer

@Suite struct InOrderPipelineTests {
    /// Entries carry their number and how long their "delivery" takes.
    private struct Entry: Sendable {
        var number: Int
        var delivery: Task<Bool, Never>
    }

    private func delivering(after milliseconds: Int, result: Bool = true) -> Task<Bool, Never> {
        Task {
            try? await Task.sleep(for: .milliseconds(milliseconds))
            return result
        }
    }

    @Test func entriesSettleInSubmissionOrderEvenWhenLaterDeliveriesFinishFirst() async throws {
        let settled = Mutexed<[Int]>([])
        try await runInOrderPipeline(
            depth: 4,
            produce: { submit in
                for (number, delay) in [(0, 80), (1, 5), (2, 40), (3, 1), (4, 20)].map({ $0 }) {
                    _ = await submit(Entry(number: number, delivery: delivering(after: delay)))
                }
            },
            settle: { entry in
                guard await entry.delivery.value else { return false }
                settled.withLock { $0.append(entry.number) }
                return true
            })
        #expect(settled.withLock { $0 } == [0, 1, 2, 3, 4])
    }

    @Test func anEntrySettlesAsSoonAsItIsDeliveredWithoutWaitingForMoreInput() async throws {
        let settled = Mutexed<[Int]>([])
        try await runInOrderPipeline(
            depth: 8,
            produce: { submit in
                _ = await submit(Entry(number: 0, delivery: delivering(after: 1)))
                // The input pauses; the first entry must settle meanwhile.
                let deadline = ContinuousClock.now + .seconds(5)
                while settled.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(settled.withLock { $0 } == [0], "the entry waited for more input before settling")
            },
            settle: { entry in
                guard await entry.delivery.value else { return false }
                settled.withLock { $0.append(entry.number) }
                return true
            })
    }

    @Test func nothingAfterAnUndeliveredEntrySettlesAndTheProducerIsStopped() async throws {
        let settled = Mutexed<[Int]>([])
        let refused = Mutexed<Int?>(nil)
        try await runInOrderPipeline(
            depth: 2,
            produce: { submit in
                for number in 0..<50 {
                    let accepted = await submit(
                        Entry(number: number, delivery: delivering(after: 1, result: number != 3)))
                    if !accepted {
                        refused.withLock { $0 = number }
                        return
                    }
                }
            },
            settle: { entry in
                guard await entry.delivery.value else { return false }
                settled.withLock { $0.append(entry.number) }
                return true
            })
        #expect(settled.withLock { $0 } == [0, 1, 2])
        #expect(refused.withLock { $0 } != nil, "the producer kept going after delivery was given up")
    }

    @Test func anErrorWhileSettlingEndsThePipelineEvenIfTheProducerWaitsForInput() async {
        struct Crash: Error {}
        await #expect(throws: Crash.self) {
            try await runInOrderPipeline(
                depth: 4,
                produce: { submit in
                    _ = await submit(Entry(number: 0, delivery: delivering(after: 1)))
                    // Like a consumer with no traffic: waits until cancelled.
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                }, settle: { _ in throw Crash() })
        }
    }
}
