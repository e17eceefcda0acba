// The fleet models of device profiles other than the default: one `<profile>.json` artifact per
// profile in a directory, each loaded, refused and reloaded as the default model is. A file
// added later is picked up at the next check; a reading whose profile has no model is judged
// by its device's own baseline alone.
import Events
import Foundation
import Logging
import Models
import ServiceLifecycle
import Synchronization

package final class ProfileModels: Service, Sendable {
    private let directory: String
    private let interval: Duration
    private let metrics: ScorerMetrics
    private let logger: Logger
    private let stores = Mutex<[String: ModelStore<IsolationForest>]>([:])
    /// Listing the directory and loading new files run here, off Swift's shared pool.
    private let scanner = DispatchQueue(label: "alertron.scorer.profile-models")

    /// Loads what `directory` holds now ("" for none); `reloadInterval` also paces the checks
    /// for new files (5 s when reloading is off, so a new profile still arrives).
    package init(directory: String, reloadInterval: Duration, metrics: ScorerMetrics, logger: Logger) {
        self.directory = directory
        self.interval = reloadInterval > .zero ? reloadInterval : .seconds(5)
        self.metrics = metrics
        self.logger = logger
        scanner.sync { scan() }
    }

    /// The models that loaded, by profile.
    var current: [String: IsolationForest] {
        stores.withLock { stores in stores.compactMapValues { $0.current } }
    }

    /// Adds a store for every `<profile>.json` not seen before (it loads at once).
    private func scan() {
        guard !directory.isEmpty,
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return }
        for name in names.sorted() where name.hasSuffix(".json") {
            let profile = String(name.dropLast(5))
            guard Reading.isValidName(profile.utf8), profile != Reading.defaultProfile,
                stores.withLock({ $0[profile] == nil })
            else { continue }
            let store = ModelStore<IsolationForest>(
                path: directory + "/" + name, reloadInterval: .zero, metrics: metrics,
                logger: logger.with(metadata: ["profile": "\(profile)"])
            ) { $0.channelMismatch?.description }
            stores.withLock { $0[profile] = store }
        }
    }

    /// Checks for new files and changed ones every interval, and on SIGHUP.
    package func run() async throws {
        await watchUntilShutdown(every: interval, onSIGHUP: { await self.refresh() }, onTick: { await self.refresh() })
    }

    /// Picks up new files and reloads changed ones.
    func refresh() async {
        await withCheckedContinuation { continuation in
            scanner.async {
                self.scan()
                continuation.resume()
            }
        }
        for store in stores.withLock({ Array($0.values) }) { await store.reloadIfChanged() }
    }
}

extension Logger {
    fileprivate func with(metadata: Logger.Metadata) -> Logger {
        var logger = self
        for (key, value) in metadata { logger[metadataKey: key] = value }
        return logger
    }
}
