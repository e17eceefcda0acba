// `notifier-benchmark`: the notifier under a storm of anomalies, on an in-process development
// broker and Slack stand-in (which answers 429 to anything faster than one message per second
// per channel, as Slack does). Reports catch-up throughput against a bare consumer reading
// the same topic in the same run, then a paced phase at the target rate: memory over time,
// messages per incident (posts, updates, replies) and their pace per channel, and whether the
// incidents' messages, as they stand at the end, count every anomaly exactly once.
import ArgumentParser
import Events
import BenchmarkSupport
import Foundation
import Kafka
import KafkaDevelopment
import Logging
import Notifier
import ServiceLifecycle
import SlackStandIn
import Telemetry

@main
struct NotifierBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifier-benchmark",
        abstract: "Measure the notifier under a flood of anomalies (see BENCHMARKS.md).")

    @Option(help: "Anomalies preloaded for the catch-up phase.") var backlog = 200_000
    @Option(help: "Anomalies per second in the paced phase.") var rate = 10_000
    @Option(help: "Seconds of the paced phase.") var seconds = 60
    @Option(help: "Devices the anomalies come from.") var devices = 500

    func run() async throws {
        let logger = {
            var logger = Logger(label: "benchmark"); logger.logLevel = .error; return logger
        }()
        let cluster = try KafkaDevelopmentCluster(logger: logger)
        for topic in [Topic.anomalies, Topic.alertmanager, Topic.feedback].flatMap({ [$0, Topic.deadLetters(of: $0)] })
            + [Topic.notifierIncidents]
        {
            try cluster.createTopic(topic, partitions: 6)
        }
        let kafka = KafkaConfiguration(
            bootstrapServers: cluster.bootstrapServers, clientID: "benchmark",
            properties: ["session.timeout.ms": "6000"])
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let slack = SlackStandIn(configuration: .init(minimumInterval: .milliseconds(950)))
        Bench.say(
            """
            notifier benchmark: \(devices) devices, window 1 s, digest above 5 devices, 1 message/s per channel \
            (2 channels)
            """
        )

        try await produce(backlog, from: 0, producer: producer)
        let baseline = try await bareConsumerSeconds(count: backlog, kafka: kafka, logger: logger)
        Bench.say(
            String(
                format: "baseline: a bare consumer reads %d anomalies in %.2f s: %.0f/s", backlog, baseline,
                Double(backlog) / baseline))

        try await slack.withServer(logger: logger) { base in
            var settings = NotifierSettings()
            settings.kafka = kafka
            settings.slackBotToken = "xoxb-benchmark"
            settings.slackAPIURL = URL(string: base + "/api")!
            settings.slackChannel = "#warning"
            settings.channelRoutes = ["critical": "#critical", "warning": "#warning"]
            settings.groupWindow = .seconds(1)
            let runtime = ServiceRuntime(settings: ServiceSettings(serviceName: "notifier"), logger: logger)
            let (application, worker) = try buildApplication(runtime: runtime, settings: settings)
            let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
            let running = Task { try await group.run() }

            // Catch-up: the backlog, read and folded as fast as the notifier can; then every
            // anomaly must be in a delivered message (Slack's pace, not reading, sets that time).
            while worker.readCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
            let firstRead = ContinuousClock.now
            while worker.readCount < backlog { try await Task.sleep(for: .milliseconds(1)) }
            let reading = Bench.seconds(ContinuousClock.now - firstRead)
            try await waitUntil(accounted: backlog, slack: slack, worker: worker, within: .seconds(120))
            Bench.say(
                String(
                    format: "catch-up: %d anomalies read and grouped in %.2f s: %.0f/s, %.2fx the bare consumer; "
                        + "all in delivered messages %.1f s after the group join", backlog, reading,
                    Double(backlog) / reading,
                    baseline / reading, Bench.seconds(ContinuousClock.now - firstRead)))

            // Paced: the target rate for a while, memory sampled as it goes.
            let pacedStart = ContinuousClock.now
            let total = rate * seconds
            var samples: [(Int, Int)] = []
            var maxPending = 0
            for second in 0..<seconds {
                try await produce(rate, from: backlog + second * rate, producer: producer)
                maxPending = max(maxPending, worker.pendingAlerts)
                samples.append((second + 1, Bench.residentMegabytes()))
                try await Task.sleep(until: pacedStart + .seconds(second + 1), clock: .continuous)
            }
            try await waitUntil(accounted: backlog + total, slack: slack, worker: worker, within: .seconds(60))
            let drained = Bench.seconds(ContinuousClock.now - pacedStart) - Double(seconds)
            let rss = samples.map(\.1)
            Bench.say(
                """
                paced: \(total) anomalies at \(rate)/s over \(seconds) s; all accounted for \
                \(String(format: "%.1f", drained)) s after the last was sent
                """
            )
            Bench.say(
                "memory: RSS "
                    + samples.filter { [1, 5, 10, 20, 30, seconds].contains($0.0) }.map { "\($0.1) MiB @\($0.0)s" }
                    .joined(separator: ", ") + "; "
                        + """
                        growth from 5 s to the end \(rss.last! - rss[min(4, rss.count - 1)]) MiB (process incl. the \
                        in-process broker and stand-in)
                        """
            )
            Bench.say("backpressure: at most \(maxPending) alerts pending (limit \(settings.maxPending))")

            let accepted = slack.accepted
            let posts = accepted.filter { $0.method == "chat.postMessage" && $0.threadTS == nil }
            let updates = accepted.filter { $0.method == "chat.update" }
            let replies = accepted.filter { $0.threadTS != nil }
            let refused = slack.requests.count - accepted.count
            // The channel's pace holds for every request to it: posts, updates and replies alike.
            var perChannel: [String: [Date]] = [:]
            for request in accepted { perChannel[request.channelID ?? "?", default: []].append(request.receivedAt) }
            let fastest = perChannel.mapValues { times in
                zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) }.min() ?? 0
            }
            let messages = slack.latestMessages
            let incidents = Set(messages.compactMap { $0.incident })
            Bench.say(
                "slack: \(messages.count) messages for \(incidents.count) incidents and \(backlog + total) anomalies: "
                    + "\(posts.count) posts, \(updates.count) updates, \(replies.count) thread replies; "
                    + "\(refused) refused (429) by the stand-in's 1/s limit; closest gap per channel "
                    + fastest.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value)) s" }
                    .joined(separator: ", "))
            let counted = messages.reduce(0) { $0 + $1.alerts }
            Bench.say(
                """
                accounting: \(counted) anomalies counted in the incidents' messages as they stand, \(backlog + total) \
                sent: \(counted == backlog + total ? "every one, once" : "MISMATCH"); \
                \(posts.count == incidents.count ? "one message per incident" : "MORE THAN ONE MESSAGE FOR AN INCIDENT")
                """
            )
            await group.triggerGracefulShutdown()
            _ = await running.result
        }
        await producer.shutdown()
    }

    /// Sends anomalies `first..<first+count`, in chunks the producer's local queue can hold.
    private func produce(_ count: Int, from first: Int, producer: KafkaProducer) async throws {
        var chunk = first
        while chunk < first + count {
            let size = min(20_000, first + count - chunk)
            try await produceChunk(size, from: chunk, producer: producer)
            chunk += size
        }
    }

    private func produceChunk(_ count: Int, from first: Int, producer: KafkaProducer) async throws {
        var batch = KafkaProducerBatch(capacity: count)
        let now = Timestamp.now()
        for next in first..<(first + count) {
            let device = "edge-\(next % devices)"
            let severity: Severity = next % 10 == 0 ? .critical : .warning
            // One episode per device for the whole run, as a device faulty throughout would have.
            let event = ScoredEvent(
                event: .reading(
                    Reading(
                        id: "bench-\(next)", ts: now, deviceID: device, temperature: 90, pressure: 1013,
                        vibration: 0.4)),
                score: 0.7, anomaly: true, severity: severity, model: "device_baseline@bench", scoredAt: now,
                episode: EpisodeMark(id: "\(device)/bench", state: next < devices ? .opened : .continues))
            batch.append(topic: Topic.anomalies, key: device, value: EventWriter.encode(event))
        }
        _ = try await producer.send(batch)
    }

    private func bareConsumerSeconds(count: Int, kafka: KafkaConfiguration, logger: Logger) async throws -> Double {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: kafka, groupID: "bare", topics: [Topic.anomalies, Topic.alertmanager]),
            logger: logger)
        var read = 0
        var start: ContinuousClock.Instant?
        for await batch in consumer.batches {
            if start == nil { start = .now }
            read += batch.count
            if read >= count { break }
        }
        let elapsed = Bench.seconds(ContinuousClock.now - (start ?? .now))
        await consumer.close()
        return elapsed
    }

    private func waitUntil(
        accounted total: Int, slack: SlackStandIn, worker: NotifierWorker, within limit: Duration
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let counted = slack.latestMessages.reduce(0) { $0 + $1.alerts }
            if counted >= total && worker.pendingAlerts == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("not every anomaly was accounted for within \(limit)")
    }
}
