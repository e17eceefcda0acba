// Reading what a service produced, as an outside consumer would, and a lock-held box for
// values tests collect from concurrent code. Shared by every package's tests.
import Foundation
import Kafka
import Logging

/// Every message on `topic` until at least `count` arrived, then whatever else arrives within
/// `settle` seconds (so a test sees extra messages too). A fresh consumer group each call,
/// reading from the earliest offset, with the local profile's 6 s session timeout.
public func readTopic(
    _ topic: String, kafka: KafkaConfiguration, count: Int, settle: Double = 0,
    within seconds: Double = 30, logger: Logger
) async throws -> [KafkaConsumerMessage] {
    var configuration = KafkaConsumerConfiguration(
        kafka: kafka, groupID: "reader-\(UUID().uuidString)", topics: [topic])
    configuration.sessionTimeoutMilliseconds = 6000
    let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
    let collected = Mutexed<[KafkaConsumerMessage]>([])
    let reader = Task {
        for await batch in consumer.batches { collected.withLock { $0.append(contentsOf: batch) } }
    }
    defer { reader.cancel() }
    try await eventually(seconds, "\(count) messages on \(topic)") { collected.withLock { $0.count } >= count }
    if settle > 0 { try await Task.sleep(for: .seconds(settle)) }
    reader.cancel()
    await reader.value
    await consumer.close()
    return collected.withLock { $0 }
}

/// A value behind a lock, for tests that gather results from concurrent tasks.
public final class Mutexed<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    public init(_ value: Value) { self.value = value }
    public func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}
