// The Kafka target: every batch is resent until the broker has acknowledged all of it, and
// given up only when shutdown's drain time runs out or Kafka refuses it for good.
import Kafka
import Logging

package struct KafkaSink: EventSink {
    let producer: KafkaProducer
    let topic: String
    let logger: Logger

    package init(producer: KafkaProducer, topic: String, logger: Logger) {
        (self.producer, self.topic, self.logger) = (producer, topic, logger)
    }

    package var name: String { "kafka topic \(topic)" }
    package var format: BatchEncoder.Format { .kafka(topic: topic) }

    package func deliver(_ batch: OutgoingBatch, context: DeliveryContext) async throws -> DeliveryOutcome {
        guard !batch.messages.isEmpty else { return .delivered }
        var backoff = Backoff()
        while true {
            let producer = self.producer
            let messages = batch.messages
            do {
                guard try await context.unlessExpired({ try await producer.send(messages) }) != nil else {
                    return .abandoned
                }
                return .delivered
            } catch let error as KafkaError {
                switch error.code {
                case .queueFull where error.isRetriable:
                    // Backpressure, not a failure: the local queue drains as the broker acknowledges.
                    guard await context.sleep(.milliseconds(5)) else { return .abandoned }
                    continue
                case .shutDown:
                    return .abandoned
                default:
                    context.attemptFailed(reason: "kafka_\(error.code.rawValue)")
                    guard error.isRetriable else {
                        throw GeneratorError(
                            .kafkaRejected,
                            "kafka refused a batch of \(batch.count) events for topic \(topic): \(error)")
                    }
                    // Resending may duplicate messages that did arrive; their ids let consumers drop them.
                    let wait = backoff.next()
                    logger.warning(
                        "batch not acknowledged; sending it again",
                        metadata: ["error": "\(error)", "retry_in": "\(wait)", "events": "\(batch.count)"])
                    guard await context.sleep(wait) else { return .abandoned }
                }
            }
        }
    }
}
