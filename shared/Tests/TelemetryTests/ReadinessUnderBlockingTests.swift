// /readyz answers on time whatever its checks do, and /metrics with it: a check that ignores
// cancellation, one that blocks its thread, a broker that does not answer and Kafka clients
// tearing down slowly cost a probe nothing but a "timed out".
import Dispatch
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import Logging
import Testing
import AlertronTesting
@testable import Telemetry

// Serialized: one test blocks a pool thread on purpose, and the live test times answers.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ReadinessUnderBlockingTests {
    @Test func aCheckThatIgnoresCancellationIsJoinedNotStartedAgainAndStillAnswersOnTime() async throws {
        let readiness = ReadinessChecks()
        let starts = Locked(0)
        let release = Gate()
        // Should the probe wait for the check again, the test fails after 5 s instead of hanging.
        release.open(after: .seconds(5))
        readiness.add("stuck") {
            starts.withLock { $0 += 1 }
            await release.wait()  // not cancellable: only the gate ends it
        }
        readiness.add("fast") {}

        let first = await timed { await readiness.evaluate(timeout: .milliseconds(200)) }
        #expect(first.elapsed < .seconds(4), "a probe with a 200 ms deadline took \(first.elapsed)")
        #expect(first.value.results["stuck"]?.hasPrefix("timed out") == true, "\(first.value.results)")
        #expect(first.value.results["fast"] == "ok")

        // Later probes join the run that is still under way instead of starting another.
        for _ in 0..<3 {
            let again = await timed { await readiness.evaluate(timeout: .milliseconds(200)) }
            #expect(again.elapsed < .seconds(4))
            #expect(!again.value.isReady)
        }
        #expect(starts.value == 1, "a stuck check was started \(starts.value) times")

        // Once it returns, a probe sees it pass; the probe after that starts one fresh run.
        release.open()
        try await eventually(10, "the released check to pass") {
            await readiness.evaluate(timeout: .milliseconds(500)).isReady
        }
        let before = starts.value
        #expect(await readiness.evaluate(timeout: .seconds(5)).isReady)
        #expect(starts.value == before + 1)
    }

    @Test func aCheckThatBlocksItsThreadHoldsOneThreadWhateverTheNumberOfProbes() async throws {
        let readiness = ReadinessChecks()
        let starts = Locked(0)
        let blocker = DispatchSemaphore(value: 0)
        readiness.add("blocking") {
            starts.withLock { $0 += 1 }
            blocker.wait()  // what a blocking C call made on the pool would do
        }
        // Every blocked start is let go within 5 s, so a regression fails instead of hanging.
        let watchdog = Thread {
            Thread.sleep(forTimeInterval: 5)
            for _ in 0..<(starts.value + 8) { blocker.signal() }
        }
        watchdog.start()
        for _ in 0..<4 {
            let probe = await timed { await readiness.evaluate(timeout: .milliseconds(200)) }
            #expect(probe.elapsed < .seconds(4), "a probe with a 200 ms deadline took \(probe.elapsed)")
            #expect(probe.value.results["blocking"]?.hasPrefix("timed out") == true)
        }
        #expect(starts.value == 1, "a blocked check was started \(starts.value) times: one pool thread each")
        blocker.signal()
    }

    @Test func aLateCheckReadsAsItsLastOutcomeWhileThatIsRecent() async throws {
        let readiness = ReadinessChecks(recentEnough: .milliseconds(500))
        let hang = Locked(false)
        let release = Gate()
        release.open(after: .seconds(5))
        defer { release.open() }
        readiness.add("dependency") { if hang.value { await release.wait() } }

        let answered = await readiness.evaluate(timeout: .seconds(5))
        #expect(answered.isReady)
        #expect(answered.results["dependency"] == "ok")

        // The dependency slows down: a late run reads as the "ok" of a moment ago.
        hang.value = true
        let late = await readiness.evaluate(timeout: .milliseconds(50))
        #expect(late.isReady, "\(late.results)")
        #expect(late.results["dependency"]?.hasPrefix("ok (as of ") == true, "\(late.results)")

        // Once that "ok" is older than `recentEnough`, the late run is a failure.
        try await Task.sleep(for: .milliseconds(700))
        let stale = await readiness.evaluate(timeout: .milliseconds(50))
        #expect(!stale.isReady, "\(stale.results)")
        #expect(stale.results["dependency"]?.hasPrefix("timed out") == true, "\(stale.results)")
    }

    /// The whole service surface over real sockets while everything that can block does.
    @Test func readyzAndMetricsAnswerWithinOneSecondWhileChecksHangAndKafkaTearsDownSlowly() async throws {
        let logger = Logger(label: "readiness-test") { _ in SwiftLogNoOpLogHandler() }
        let cluster = try KafkaDevelopmentCluster(logger: logger)
        try cluster.createTopic("readings", partitions: 3)
        let kafka = KafkaConfiguration(
            bootstrapServers: cluster.bootstrapServers, clientID: "readiness-test",
            properties: ["session.timeout.ms": "6000"])
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        _ = try await producer.metadata(allTopics: false, timeout: .seconds(10))

        let readiness = ReadinessChecks()
        readiness.add("kafka", producer.checkReachable)
        let release = Gate()
        readiness.add("stuck") { await release.wait() }
        defer { release.open() }
        let runtime = ServiceRuntime(
            settings: ServiceSettings(serviceName: "testsvc"), logger: logger,
            readiness: readiness)
        let app = runtime.makeApplication(router: runtime.makeRouter())

        // The broker goes away: metadata requests now wait their full 2 s, and clients that
        // close or are dropped wait on librdkafka's teardown.
        try cluster.setBroker(1, up: false)
        let teardown = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<3 {
                    group.addTask {
                        var configuration = KafkaProducerConfiguration(kafka: kafka)
                        configuration.flushTimeout = .seconds(3)
                        guard let doomed = try? KafkaProducer(configuration: configuration, logger: logger) else {
                            return
                        }
                        async let lost = try? doomed.send(topic: "readings", key: "k\(index)", value: Array("x".utf8))
                        try? await Task.sleep(for: .milliseconds(200))
                        await doomed.shutdown()  // flushes against a dead broker for up to 3 s
                        _ = await lost
                    }
                    group.addTask {
                        let configuration = KafkaConsumerConfiguration(
                            kafka: kafka, groupID: "g\(index)", topics: ["readings"])
                        guard let consumer = try? KafkaConsumer(configuration: configuration, logger: logger) else {
                            return
                        }
                        await consumer.close(timeout: .seconds(3))
                    }
                    group.addTask {
                        // Dropped without close: rd_kafka_destroy closes it, on its own thread.
                        let configuration = KafkaConsumerConfiguration(
                            kafka: kafka, groupID: "d\(index)", topics: ["readings"])
                        _ = try? KafkaConsumer(configuration: configuration, logger: logger)
                    }
                }
            }
        }

        try await app.test(.live) { client in
            for _ in 0..<8 {
                let ready = try await timed { try await client.execute(uri: "/readyz", method: .get) { $0 } }
                let response = ready.value
                #expect(ready.elapsed < .seconds(1), "/readyz took \(ready.elapsed)")
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(body.contains(#""stuck":"timed out"#), "\(body)")

                let metrics = try await timed { try await client.execute(uri: "/metrics", method: .get) { $0 } }
                #expect(metrics.elapsed < .seconds(1), "/metrics took \(metrics.elapsed)")
                #expect(metrics.value.status == .ok)
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        await teardown.value
        // The broker stays down: bringing a mock broker back rebinds its old port, and
        // librdkafka 2.0.2 aborts the process when another socket took that port meanwhile.
        await producer.shutdown()
    }
}

/// `operation`'s result and how long it took.
private func timed<T>(_ operation: () async throws -> T) async rethrows -> (value: T, elapsed: Duration) {
    let start = ContinuousClock.now
    let value = try await operation()
    return (value, ContinuousClock.now - start)
}

/// Waiters that only `open()` lets go: they ignore cancellation on purpose.
private final class Gate: Sendable {
    private let state = Locked<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let openNow = state.withLock { state -> Bool in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if openNow { continuation.resume() }
        }
    }

    /// Opens the gate after `delay`, from a thread of its own.
    func open(after delay: Duration) {
        Thread { [self] in
            Thread.sleep(forTimeInterval: Double(delay.components.seconds))
            open()
        }.start()
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}
