// Assembles the scoring service; tests call it with port 0 and their own broker and model.
import Hummingbird
import Kafka
import Logging
import Models
import Telemetry

struct ModelNotReady: Error, CustomStringConvertible {
    let description: String
}

/// The application, and its worker for tests to observe. `beforeStoringOffsets` runs after a
/// batch's output was acknowledged and before its offsets are stored: tests use it to crash there.
package func buildApplication(
    runtime: ServiceRuntime, settings: ScorerSettings,
    beforeStoringOffsets: @escaping @Sendable () async throws -> Void = {}
) throws
    -> (application: some ApplicationProtocol, worker: ScoringWorker)
{
    let logger = runtime.logger
    let metrics = ScorerMetrics(runtime.metrics, deviceLabelCap: settings.deviceLabelCap)
    let models = ModelStore<IsolationForest>(
        path: settings.modelPath, reloadInterval: settings.reloadInterval, metrics: metrics,
        logger: logger
    ) { $0.channelMismatch?.description }
    let profileModels = ProfileModels(
        directory: settings.modelsDirectory, reloadInterval: settings.reloadInterval, metrics: metrics, logger: logger)
    let logModels = ModelStore<LogClassifier>(
        path: settings.logModelPath, reloadInterval: settings.reloadInterval, metrics: metrics,
        logger: logger)
    // People's verdicts come beside the readings, in the same group: co-partitioned, so a verdict
    // reaches the replica that holds its device. (A rebalance then revokes every partition, whose
    // devices are restored from the state topic; a group of older replicas must be gone before
    // these join.)
    var consumerConfiguration = KafkaConsumerConfiguration(
        kafka: settings.kafka, groupID: settings.consumerGroup,
        topics: [settings.inputTopic] + (settings.feedbackTopic.isEmpty ? [] : [settings.feedbackTopic]))
    consumerConfiguration.coPartitioned = !settings.feedbackTopic.isEmpty
    consumerConfiguration.maxBatchSize = settings.batchSize
    let partitionChanges = PartitionChanges(topic: settings.inputTopic)
    let consumer = try KafkaConsumer(
        configuration: consumerConfiguration, logger: logger, onRebalance: partitionChanges.note)
    let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: settings.kafka), logger: logger)
    producer.declare(
        topics: [settings.scoredTopic, settings.anomaliesTopic, settings.deadLetterTopic]
            + (settings.stateInMemory ? [] : [settings.stateTopic])
            + (settings.feedbackTopic.isEmpty ? [] : [settings.feedbackDeadLetterTopic]))
    let stateReader =
        settings.stateInMemory
        ? nil
        : try KafkaChangelogReader(kafka: settings.kafka, groupID: settings.consumerGroup + ".state", logger: logger)
    let worker = ScoringWorker(
        consumer: consumer, producer: producer, models: models, profileModels: profileModels, logModels: logModels,
        settings: settings, metrics: metrics, logger: logger, partitionChanges: partitionChanges,
        stateReader: stateReader, beforeStoringOffsets: beforeStoringOffsets)

    runtime.readiness.add("kafka", producer.checkReachable)
    runtime.readiness.add("model") {
        guard models.current != nil else {
            throw ModelNotReady(
                description: "no model loaded from \(settings.modelPath): \(models.lastError ?? "not tried")")
        }
    }
    runtime.readiness.add("log_model") {
        guard logModels.current != nil else {
            throw ModelNotReady(
                description: "no log model loaded from \(settings.logModelPath): \(logModels.lastError ?? "not tried")")
        }
    }
    // Shutdown runs in reverse: HTTP, then the worker finishes its batch, the producer
    // flushes, the consumer commits and leaves, the model stores stop watching.
    return (
        runtime.makeApplication(
            router: runtime.makeRouter(), services: [models, profileModels, logModels, consumer, producer, worker]),
        worker
    )
}
