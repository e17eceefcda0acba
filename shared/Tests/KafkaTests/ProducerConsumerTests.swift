// Producer and consumer against a real Kafka-protocol listener (librdkafka's mock cluster).
import Foundation
import Testing
@testable import Kafka

@Suite(.timeLimit(.minutes(2))) struct ProducerConsumerTests {
    @Test func producedMessagesComeBackWithTheirDeliveryReportsAndKeys() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer()
        let reports = try await broker.produce(producer, count: 100)
        #expect(reports.count == 100)
        #expect(reports.allSatisfy { $0.topic == broker.topic && $0.offset >= 0 && (0..<6).contains($0.partition) })

        let consumer = try broker.consumer(group: "round-trip")
        let received = try await consume(consumer, count: 100)
        #expect(Set(received.map(\.text)) == Set((0..<100).map { "m-\($0)" }))
        // Each message came back from exactly the partition and offset its report named.
        let reported = Dictionary(uniqueKeysWithValues: zip((0..<100).map { "m-\($0)" }, reports))
        for message in received {
            #expect(reported[message.text]?.partition == message.partition)
            #expect(reported[message.text]?.offset == message.offset)
        }
        await consumer.close()
        await producer.shutdown()
    }

    @Test func messagesWithOneKeyLandOnOnePartitionInOrder() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer()
        let reports = try await broker.produce(producer, count: 50, key: { _ in "device-42" })
        #expect(Set(reports.map(\.partition)).count == 1)
        #expect(reports.map(\.offset) == reports.map(\.offset).sorted())

        let spread = try await broker.produce(producer, count: 200, prefix: "s", key: { "device-\($0)" })
        #expect(Set(spread.map(\.partition)).count > 1, "distinct keys should use more than one partition")
        await producer.shutdown()
    }

    @Test func aNamedPartitionIsHonouredAndAChangelogReadsBackTheLatestValueOfEveryKey() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer()
        var batch = KafkaProducerBatch()
        for version in 1...3 {
            for key in ["device-a", "device-b", "device-c"] {
                // device-c belongs to partition 2, the others to 4, whatever their keys hash to.
                batch.append(
                    topic: broker.topic, key: key, value: Array("\(key)@\(version)".utf8),
                    partition: key == "device-c" ? 2 : 4)
            }
        }
        let reports = try await producer.send(batch)
        #expect(reports.map(\.partition) == (0..<9).map { $0 % 3 == 2 ? 2 : 4 })

        let reader = try KafkaChangelogReader(kafka: broker.kafka, groupID: "changelog-tests", logger: testLogger)
        let four = try await reader.latest(topic: broker.topic, partition: 4)
        #expect(
            four == [
                Array("device-a".utf8): Array("device-a@3".utf8), Array("device-b".utf8): Array("device-b@3".utf8),
            ])
        let two = try await reader.latest(topic: broker.topic, partition: 2)
        #expect(two == [Array("device-c".utf8): Array("device-c@3".utf8)])
        #expect(try await reader.latest(topic: broker.topic, partition: 0).isEmpty)
        // Read again after more writes: the reader starts from the first offset every time.
        var more = KafkaProducerBatch()
        more.append(topic: broker.topic, key: "device-a", value: Array("device-a@4".utf8), partition: 4)
        _ = try await producer.send(more)
        #expect(
            try await reader.latest(topic: broker.topic, partition: 4)[Array("device-a".utf8)]
                == Array("device-a@4".utf8))
        // A partition the topic does not have (a state topic with fewer partitions than its input).
        await #expect(throws: KafkaError.self) {
            try await reader.latest(topic: broker.topic, partition: 6, timeout: .seconds(3))
        }
        await producer.shutdown()
    }

    @Test(.ownThread) func aTombstoneIsDeliveredAsAMessageWithoutValue() async throws {
        let broker = try TestBroker(partitions: 1)
        let consumer = try broker.consumer(group: "tombstones")
        // kcat sends an empty value as NULL with -Z; the C API does the same for a NULL payload.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = ["-b", broker.cluster.bootstrapServers, "-P", "-Z", "-K:", "-t", broker.topic]
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data("device-1:\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let received = try await consume(consumer, count: 1)
        #expect(received[0].isTombstone)
        #expect(received[0].key.map { String(decoding: $0, as: UTF8.self) } == "device-1")
        await consumer.close()
    }

    @Test func aSendWithADeadlineAnswersByItWhenTheBrokerIsSlowAndTheProducerCarriesOn() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer()
        _ = try await broker.produce(producer, count: 1)  // connected, metadata known
        try broker.cluster.setRoundTripTime(broker: 1, milliseconds: 5000)
        var batch = KafkaProducerBatch()
        batch.append(topic: broker.topic, key: "k", value: Array("late".utf8))
        let start = ContinuousClock.now
        do {
            _ = try await producer.send(batch, within: .milliseconds(300))
            Issue.record("a send to a broker answering in 5 s met a 300 ms deadline")
        } catch let error as KafkaError {
            #expect(error.code == .timedOut)
            #expect(error.isRetriable)
        }
        #expect(ContinuousClock.now - start < .seconds(3), "the deadline was 300 ms")
        try broker.cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        // The timed-out send leaves nothing stuck: later sends complete.
        #expect(try await producer.send(batch, within: .seconds(20)).count == 1)
        await producer.shutdown()
    }

    @Test func aFullLocalQueueRefusesMoreAsRetriableBackpressureUntilItDrains() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer { $0.queueMaxMessages = 10 }
        // With the broker answering 6 s late, eight messages wait in the local queue. (Not
        // by taking it down: bringing a mock broker back rebinds its old port, and librdkafka
        // 2.0.2 aborts the whole test process when another socket took that port meanwhile.)
        try broker.cluster.setRoundTripTime(broker: 1, milliseconds: 6000)
        let waiting = Task { try await broker.produce(producer, count: 8) }
        try await eventually(5, "eight queued messages") { producer.queuedMessages >= 8 }
        do {
            _ = try await broker.produce(producer, count: 5, prefix: "more")
            Issue.record("the queue took 13 messages with room for 10")
        } catch let error as KafkaError {
            #expect(error.code == .queueFull)
            #expect(error.isRetriable)
        }
        // Once the broker answers, the queue drains and the waiting batch is delivered.
        try broker.cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        #expect(try await waiting.value.count == 8)
        #expect(try await broker.produce(producer, count: 5, prefix: "more").count == 5)
        await producer.shutdown()
    }

    @Test func aBatchLargerThanTheWholeQueueIsRefusedAsNotRetriable() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer { $0.queueMaxMessages = 10 }
        do {
            _ = try await broker.produce(producer, count: 11)
            Issue.record("an 11-message batch was accepted by a 10-message queue")
        } catch let error as KafkaError {
            #expect(error.code == .queueFull)
            #expect(!error.isRetriable, "it can never fit: retrying would loop forever")
        }
        #expect(try await broker.produce(producer, count: 10).count == 10)
        await producer.shutdown()
    }

    @Test func shutdownFlushesEverySendItAcknowledged() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer { $0.lingerMilliseconds = 200 }
        // Start sends, then shut down while they are still lingering in the local queue.
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    (try? await producer.send(topic: broker.topic, key: "k\(index)", value: Array("f-\(index)".utf8)))
                        != nil
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
            await producer.shutdown()
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        let acknowledged = outcomes.filter { $0 }.count
        #expect(acknowledged == 20, "the flush should deliver everything queued before shutdown")
        let consumer = try broker.consumer(group: "flush-check")
        let received = try await consume(consumer, count: acknowledged)
        #expect(received.count == acknowledged)
        await consumer.close()
        // After shutdown the producer takes nothing more.
        await #expect(throws: KafkaError.self) {
            _ = try await producer.send(topic: broker.topic, key: nil, value: [1])
        }
    }

    @Test func metadataListsTheBrokerAndTopicPartitions() async throws {
        let broker = try TestBroker(partitions: 3)
        let producer = try broker.producer()
        let metadata = try await producer.metadata()
        #expect(metadata.brokers.count == 1)
        #expect(metadata.topics[broker.topic] == 3)
        await producer.shutdown()
    }

    @Test func createTopicsOnTheDevelopmentBrokerFailsWithAnErrorThatSaysWhatToDo() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer()
        do {
            try await producer.createTopics(
                [KafkaTopicSpecification(name: "new-topic", partitions: 6)], timeout: .seconds(2))
            Issue.record("the mock cluster has no CreateTopics; success would mean the test talks to something else")
        } catch let error as KafkaError {
            #expect([.unsupported, .timedOut].contains(error.code))
            #expect(error.message.contains("CreateTopics"))
            #expect(error.message.contains("alertron-devbroker --topic"))
        }
        await producer.shutdown()
    }

    @Test func anUnknownPropertyIsRejectedByName() throws {
        var configuration = KafkaProducerConfiguration(kafka: KafkaConfiguration(properties: ["no.such.property": "1"]))
        configuration.compression = "zstd"
        #expect {
            _ = try KafkaProducer(configuration: configuration, logger: testLogger)
        } throws: { error in
            (error as? KafkaError)?.code == .configuration && "\(error)".contains("no.such.property")
        }
    }

    @Test func environmentVariablesBecomeLibrdkafkaProperties() {
        let configuration = KafkaConfiguration.fromEnvironment(
            [
                "KAFKA_BROKERS": "broker-1:9092,broker-2:9092",
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SASL_MECHANISM": "PLAIN",
                "PATH": "/usr/bin",
            ], clientID: "scorer")
        #expect(configuration.bootstrapServers == "broker-1:9092,broker-2:9092")
        #expect(configuration.clientID == "scorer")
        #expect(configuration.properties == ["security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"])
    }

    @Test func unrelatedKafkaEnvironmentVariablesDoNotStopAClientFromStarting() async throws {
        // What Kubernetes injects for a Service named "kafka", plus a real property.
        let configuration = KafkaConfiguration.fromEnvironment([
            "KAFKA_PORT": "tcp://10.0.0.1:9092", "KAFKA_SERVICE_HOST": "10.0.0.1", "KAFKA_SOCKET_TIMEOUT_MS": "5000",
        ])
        #expect(configuration.environmentPropertyNames == ["port", "service.host", "socket.timeout.ms"])
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: configuration), logger: testLogger)
        await producer.shutdown()
        // A known property with a bad value from the environment is still an error.
        let bad = KafkaConfiguration.fromEnvironment(["KAFKA_SOCKET_TIMEOUT_MS": "soon"])
        #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: bad), logger: testLogger)
        }
    }

    @Test func secretsAreRedactedFromTheConfigurationsDescription() {
        let configuration = KafkaConfiguration(properties: [
            "sasl.password": "hunter2", "ssl.key.pem": "-----BEGIN", "sasl.username": "svc",
        ])
        let text = "\(configuration)"
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("BEGIN"))
        #expect(text.contains("sasl.username=svc"))
    }

    @Test func theConsumerKeepsOffsetStoreManualWhateverTheUserSets() {
        let user = KafkaConfiguration(properties: ["enable.auto.offset.store": "true"])
        let configuration = KafkaConsumerConfiguration(kafka: user, groupID: "g", topics: ["t"])
        #expect(configuration.librdkafkaProperties["enable.auto.offset.store"] == "false")
    }

    @Test func anInvalidTopicNameFailsTheSendWithoutRetryInsteadOfCrashing() async throws {
        let broker = try TestBroker()
        let producer = try broker.producer()
        do {
            _ = try await producer.send(topic: String(repeating: "x", count: 600), key: nil, value: [1])
            Issue.record("a 600-byte topic name was accepted")
        } catch let error as KafkaError {
            #expect(!error.isRetriable)
        }
        await producer.shutdown()
    }
}
