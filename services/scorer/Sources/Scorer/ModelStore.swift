// Holds a model being served and swaps in a new one on SIGHUP or when the file changes.
// A file that does not load is refused with an error and the current model keeps serving.
import Foundation
import Logging
import Metrics
import Models
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A model the scorer serves from an artifact file.
package protocol ServableModel: Sendable {
    /// Which model this is, in logs and metric labels: "sensor" or "log".
    static var kind: String { get }
    static func load(path: String) throws(ModelError) -> Self
    /// `name@version`, as scored events carry it.
    var version: String { get }
}

extension IsolationForest: ServableModel {
    package static var kind: String { "sensor" }
}

extension LogClassifier: ServableModel {
    package static var kind: String { "log" }
}

package final class ModelStore<Model: ServableModel>: Service, Sendable {
    private let path: String
    private let interval: Duration
    private let logger: Logger
    private let metrics: ScorerMetrics
    /// Why a model that loads still cannot serve (nil: it can), checked before it replaces the current one.
    private let reject: @Sendable (Model) -> String?
    private let state = Mutex<State>(State())
    /// Reloads run here, one at a time (SIGHUP and the file watcher must not race to
    /// install), and off Swift's shared pool: reading and parsing a large artifact takes a
    /// while, and a pool thread held that long stalls /readyz, /metrics and the scoring.
    private let loader = DispatchQueue(label: "alertron.scorer.model-loader")

    private struct State {
        var model: Model?
        var lastError: String?
        var fileStamp: FileStamp?
    }

    /// What tells a changed file from the loaded one: modification time and size.
    private struct FileStamp: Equatable {
        var modified: Date
        var size: Int
    }

    package init(
        path: String, reloadInterval: Duration, metrics: ScorerMetrics, logger: Logger,
        reject: @escaping @Sendable (Model) -> String? = { _ in nil }
    ) {
        self.path = path
        self.interval = reloadInterval
        self.metrics = metrics
        self.logger = logger
        self.reject = reject
        reload(reason: "start")
    }

    /// The model now in service, if one ever loaded.
    var current: Model? { state.withLock { $0.model } }

    /// Why the last load failed, if it did.
    var lastError: String? { state.withLock { $0.lastError } }

    /// Loads the file on the loader queue, waiting for it; keeps the current model when it
    /// fails. Returns whether it loaded. For start-up (before any service runs) and tests;
    /// running services use `reloadInBackground(reason:)`.
    @discardableResult
    func reload(reason: String) -> Bool {
        loader.sync { load(reason: reason) }
    }

    /// The same reload, awaited without holding a thread of the shared pool.
    @discardableResult
    func reloadInBackground(reason: String) async -> Bool {
        await onLoader { self.load(reason: reason) }
    }

    private func load(reason: String) -> Bool {
        let stamp = Self.stamp(path)
        do throws(ModelError) {
            let model = try Model.load(path: path)
            if let rejection = reject(model) { throw ModelError(rejection) }
            let previous = state.withLock { state -> String? in
                defer {
                    state.model = model
                    state.lastError = nil
                    state.fileStamp = stamp
                }
                return state.model?.version
            }
            metrics.modelLoaded(kind: Model.kind, version: model.version, replacing: previous)
            logger.info(
                "model loaded",
                metadata: [
                    "model": "\(Model.kind)", "path": "\(path)", "version": "\(model.version)", "reason": "\(reason)",
                ])
            return true
        } catch {
            state.withLock {
                $0.lastError = error.description
                $0.fileStamp = stamp
            }
            metrics.modelReloadFailed(kind: Model.kind)
            logger.error(
                "model not loaded; the current model keeps serving",
                metadata: [
                    "model": "\(Model.kind)", "path": "\(path)", "error": "\(error.description)", "reason": "\(reason)",
                    "serving": "\(current?.version ?? "none")",
                ])
            return false
        }
    }

    /// Reloads on SIGHUP, and when the file's time or size changes (checked every interval).
    package func run() async throws {
        await watchUntilShutdown(
            every: interval, onSIGHUP: { await self.reloadInBackground(reason: "SIGHUP") },
            onTick: { await self.reloadIfChanged() })
    }

    /// Reloads when the file's time or size differs from the last load's.
    func reloadIfChanged() async {
        if await fileChanged() { await reloadInBackground(reason: "file changed") }
    }

    /// Whether the file's time or size differs from the last load's (a stat on the loader queue).
    private func fileChanged() async -> Bool {
        await onLoader { self.state.withLock { $0.fileStamp } != Self.stamp(self.path) }
    }

    /// Runs `work` on the loader queue and resumes the caller with its result.
    private func onLoader<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in loader.async { continuation.resume(returning: work()) } }
    }

    private static func stamp(_ path: String) -> FileStamp? {
        // Through symlinks: a Kubernetes ConfigMap swaps a link, not the file.
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: target),
            let modified = attributes[.modificationDate] as? Date,
            let size = attributes[.size] as? Int
        else { return nil }
        return FileStamp(modified: modified, size: size)
    }
}

/// Runs `onSIGHUP` at each SIGHUP and `onTick` every `interval` (never when it is zero) until
/// graceful shutdown: how model files are watched.
func watchUntilShutdown(
    every interval: Duration, onSIGHUP: @escaping @Sendable () async -> Void,
    onTick: @escaping @Sendable () async -> Void
) async {
    await withDiscardingTaskGroup { group in
        group.addTask {
            for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() { await onSIGHUP() }
        }
        if interval > .zero {
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval) } catch { return }
                    await onTick()
                }
            }
        }
        try? await gracefulShutdown()
        group.cancelAll()
    }
}
