// The generator's loop: make the next batch when the pacer allows, hand it to the target with
// a bounded number of batches awaiting acknowledgement, and count what was acknowledged. With
// --count (or a replay that ends) it finishes once everything was acknowledged; on SIGTERM it
// stops generating and gives the batches in flight the drain timeout to be acknowledged.
import Events
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

package final class GenerationWorker: Service, Sendable {
    private let settings: GeneratorSettings
    private let sink: any EventSink
    private let logger: Logger
    private let finished = Atomic<Bool>(false)
    private let metrics: GeneratorMetrics
    private let context: DeliveryContext
    private let progress: Mutex<GenerationSummary>
    private let acknowledged = Atomic<Int>(0)
    /// The first error a delivery could not get past; the loop throws it to end the run.
    private let failure = Mutex<(any Error)?>(nil)

    package init(settings: GeneratorSettings, sink: any EventSink, metrics: GeneratorMetrics, logger: Logger) {
        self.metrics = metrics
        context = DeliveryContext(metrics: metrics)
        self.settings = settings
        self.sink = sink
        self.logger = logger
        progress = Mutex(GenerationSummary(target: sink.name))
    }

    /// True once every event of a finite run (--count, or a replay file that ends) was
    /// acknowledged; `run()` then returns, which ends the service group (`serviceGroup`).
    package var hasFinished: Bool { finished.load(ordering: .acquiring) }

    /// Events the target has acknowledged so far.
    package var acknowledgedCount: Int { acknowledged.load(ordering: .relaxed) }

    /// The run so far (or all of it, once `run()` has returned).
    package var summary: GenerationSummary {
        var summary = progress.withLock { $0 }
        summary.failedAttempts = context.failedAttempts
        return summary
    }

    package func run() async throws {
        metrics.targetRate.record(settings.rate)
        // Exported from the start, so dashboards and alerts see 0 rather than nothing.
        metrics.rate.record(0)
        metrics.undelivered.increment(by: 0)
        let start = ContinuousClock.now
        logger.info(
            "generating",
            metadata: [
                "target": "\(sink.name)", "mode": "\(settings.stream.mode.rawValue)",
                "rate": "\(settings.rate)", "count": "\(settings.count)",
                "devices": "\(settings.stream.fleet.devices)", "seed": "\(settings.stream.seed)",
                "run_id": "\(settings.stream.runID)",
            ])
        let finished = try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await self.report() }
                defer { tasks.cancelAll() }
                return try await self.generate()
            }
        } onGracefulShutdown: {
            self.context.beginDrain(timeout: self.settings.drainTimeout)
        }
        progress.withLock { $0.elapsed = ContinuousClock.now - start }
        let summary = self.summary
        logger.info(
            "generation ended",
            metadata: [
                "acknowledged": "\(summary.delivered.total)", "undelivered": "\(summary.undelivered)",
                "failed_attempts": "\(summary.failedAttempts)", "finished": "\(finished)",
            ])
        self.finished.store(finished, ordering: .releasing)
    }

    /// Generates until the count is reached, the replay ends, or shutdown; then waits for
    /// every batch in flight. True when the run finished (rather than being stopped).
    private func generate() async throws -> Bool {
        var stream = EventStream(
            configuration: settings.stream,
            replay: try settings.replay.map {
                try LogReplay(path: $0.path, format: $0.format, source: $0.source, loop: $0.loop)
            })
        var encoder = BatchEncoder(format: sink.format)
        var pacer = RatePacer(rate: settings.rate)
        let limit = settings.count
        var generated = 0
        var exhausted = false

        try await withThrowingTaskGroup(of: Void.self) { deliveries in
            var inFlight = 0
            while !exhausted, limit == 0 || generated < limit, !context.isDraining, !Task.isCancelled {
                if let error = failure.withLock({ $0 }) { throw error }
                if inFlight >= settings.inFlightBatches {
                    try await deliveries.next()
                    inFlight -= 1
                    continue
                }
                let wanted = limit == 0 ? settings.batchSize : min(settings.batchSize, limit - generated)
                switch pacer.decide(at: .now, limit: wanted) {
                case .wait(let until):
                    // Short slices, so shutdown is noticed soon even at one event a minute.
                    try? await Task.sleep(until: min(until, .now + .milliseconds(100)))
                case .send(let count):
                    var batch = encoder.makeBatch(capacity: count)
                    // One reading of the clock per batch: events made together share a timestamp.
                    let now = settings.stream.start == nil ? Timestamp.now() : ""
                    for _ in 0..<count {
                        guard let event = try stream.next(wallClock: now) else {
                            exhausted = true
                            break
                        }
                        encoder.append(event, to: &batch)
                    }
                    generated += batch.count
                    guard batch.count > 0 else { continue }
                    let delivery = batch
                    deliveries.addTask { await self.deliver(delivery) }
                    inFlight += 1
                }
            }
            try await deliveries.waitForAll()
            if let error = failure.withLock({ $0 }) { throw error }
        }
        if exhausted, let replay = settings.replay {
            logger.info("replay file ended", metadata: ["path": "\(replay.path)", "events": "\(generated)"])
        }
        return !context.isDraining && !Task.isCancelled && (exhausted || (limit > 0 && generated >= limit))
    }

    /// Delivers one batch and counts the outcome. A fatal error is kept for the loop to
    /// throw, so that it ends the run.
    private func deliver(_ batch: OutgoingBatch) async {
        let started = ContinuousClock.now
        do {
            switch try await sink.deliver(batch, context: context) {
            case .delivered:
                metrics.deliveryLatency.recordInterval(ContinuousClock.now - started)
                metrics.delivered(batch.tally)
                progress.withLock { $0.delivered.add(batch.tally) }
                acknowledged.add(batch.count, ordering: .relaxed)
            case .abandoned:
                abandon(batch)
            }
        } catch {
            abandon(batch)
            logger.error("the target refused a batch; stopping", metadata: ["error": "\(error)"])
            failure.withLock { $0 = $0 ?? error }
        }
    }

    private func abandon(_ batch: OutgoingBatch) {
        metrics.undelivered.increment(by: batch.count)
        progress.withLock { $0.undelivered += batch.count }
    }

    /// Every second: the current rate (gauge); every progress interval, a line on stderr.
    private func report() async {
        var last = (time: ContinuousClock.now, count: 0)
        var lastLine = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            let now = ContinuousClock.now
            let count = acknowledgedCount
            let rate = Double(count - last.count) / GenerationSummary.seconds(now - last.time)
            last = (now, count)
            metrics.rate.record(rate)
            if settings.progress, now - lastLine >= settings.progressInterval {
                lastLine = now
                FileHandle.standardError.write(Data((summary.progressLine(currentRate: rate) + "\n").utf8))
            }
        }
    }
}
