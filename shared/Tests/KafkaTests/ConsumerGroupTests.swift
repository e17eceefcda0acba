// Consumer groups: partitions shared between members, and at-least-once delivery.
import Foundation
import Testing
@testable import Kafka

@Suite(.timeLimit(.minutes(2))) struct ConsumerGroupTests {
    /// Keeps a member polling (rebalances are served by polls) and counts what it receives.
    private func keepPolling(_ consumer: KafkaConsumer, into received: Locked<[String]>) -> Task<Void, Never> {
        Task {
            for await batch in consumer.batches {
                received.withLock { $0.append(contentsOf: batch.map(\.text)) }
                try? consumer.storeOffsets(for: batch)
            }
        }
    }

    @Test func twoMembersSplitSixPartitionsAndTheSurvivorTakesAllWhenOneLeaves() async throws {
        let broker = try TestBroker(partitions: 6)
        let first = try broker.consumer(group: "split")
        let firstReceived = Locked<[String]>([])
        let secondReceived = Locked<[String]>([])
        let firstPolling = keepPolling(first, into: firstReceived)
        try await eventually(20, "the first member to own all 6 partitions") { await first.assignment().count == 6 }

        // A member joins the group as soon as it subscribes, so create the second one now.
        let second = try broker.consumer(group: "split")
        let secondPolling = keepPolling(second, into: secondReceived)
        try await eventually(30, "a 3/3 split") {
            let (a, b) = (await first.assignment(), await second.assignment())
            return a.count == 3 && b.count == 3 && Set(a).isDisjoint(with: b)
        }
        // Both members now score their own share of new messages.
        let producer = try broker.producer()
        _ = try await broker.produce(producer, count: 300, key: { "device-\($0)" })
        try await eventually(20, "all 300 messages consumed") {
            firstReceived.withLock { $0.count } + secondReceived.withLock { $0.count } >= 300
        }
        #expect(firstReceived.withLock { $0.count } > 0)
        #expect(secondReceived.withLock { $0.count } > 0)

        secondPolling.cancel()
        await secondPolling.value
        await second.close()
        try await eventually(30, "the survivor to own all 6 partitions") { await first.assignment().count == 6 }

        _ = try await broker.produce(producer, count: 60, prefix: "after", key: { "device-\($0)" })
        try await eventually(20, "the survivor to consume every new message") {
            firstReceived.withLock { $0.filter { $0.hasPrefix("after-") }.count } == 60
        }
        firstPolling.cancel()
        await firstPolling.value
        await first.close()
        await producer.shutdown()
    }

    @Test func messagesWhoseOffsetsWereNeverStoredAreDeliveredAgain() async throws {
        let broker = try TestBroker(partitions: 3)
        let producer = try broker.producer()
        _ = try await broker.produce(producer, count: 30)

        // A member that reads but dies before its work is done stores nothing.
        let crashed = try broker.consumer(group: "at-least-once")
        #expect(try await consume(crashed, count: 30).count == 30)
        await crashed.close()

        // Its successor gets every message again, then stores and commits them.
        let successor = try broker.consumer(group: "at-least-once")
        var again: [KafkaConsumerMessage] = []
        try await withDeadline(20, "redelivery") {
            var received: [KafkaConsumerMessage] = []
            for await batch in successor.batches {
                received.append(contentsOf: batch)
                try successor.storeOffsets(for: batch)
                if received.count >= 30 { break }
            }
            return received
        }.forEach { again.append($0) }
        #expect(Set(again.map(\.text)) == Set((0..<30).map { "m-\($0)" }))
        try await successor.commit()
        await successor.close()

        // Stored and committed offsets are not delivered a third time; new messages are.
        let third = try broker.consumer(group: "at-least-once")
        _ = try await broker.produce(producer, count: 1, prefix: "fresh")
        let received = try await consume(third, count: 1)
        #expect(received.map(\.text) == ["fresh-0"])
        let extra = await drain(third, for: 1.5)
        #expect(extra.isEmpty, "already committed messages came back: \(extra.map(\.text))")
        await third.close()
        await producer.shutdown()
    }

    @Test func storingOffsetsAfterEachBatchMovesTheCommittedPositionInBatchOrder() async throws {
        let broker = try TestBroker(partitions: 1)
        let producer = try broker.producer()
        _ = try await broker.produce(producer, count: 10, key: { _ in "same" })
        let consumer = try broker.consumer(group: "positions")
        let received = try await consume(consumer, count: 10)
        let batch = KafkaConsumerBatch(messages: Array(received.prefix(4)))
        #expect(batch.nextOffsets == [KafkaTopicPartition(topic: broker.topic, partition: 0): 4])
        try consumer.storeOffsets(for: batch)
        try await consumer.commit()
        await consumer.close()

        // The group resumes right after the fourth message.
        let resumed = try broker.consumer(group: "positions")
        let rest = try await consume(resumed, count: 6)
        #expect(rest.map(\.text) == (4..<10).map { "m-\($0)" })
        await resumed.close()
        await producer.shutdown()
    }
}
