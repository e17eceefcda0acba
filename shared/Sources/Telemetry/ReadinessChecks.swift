// /readyz: named checks (Kafka reachable, model loaded...) that must all pass before a
// service takes traffic. /healthz only says the process is alive.
import Foundation
import Synchronization

public final class ReadinessChecks: Sendable {
    public typealias Check = @Sendable () async throws -> Void

    public struct Report: Sendable, Equatable {
        public var isReady: Bool
        /// Check name to "ok" or the reason it failed.
        public var results: [String: String]
    }

    private let checks = Mutex<[(name: String, check: Check)]>([])

    public init() {}

    /// Adds a check; it passes when it returns and fails when it throws.
    public func add(_ name: String, _ check: @escaping Check) {
        checks.withLock { $0.append((name, check)) }
    }

    /// Runs every check concurrently; one that takes longer than `timeout` fails.
    public func evaluate(timeout: Duration = .seconds(3)) async -> Report {
        let current = checks.withLock { $0 }
        let results = await withTaskGroup(of: (String, String).self) { group in
            for (name, check) in current {
                group.addTask {
                    await withTaskGroup(of: String?.self) { race in
                        race.addTask {
                            do { try await check(); return "ok" } catch { return "\(error)" }
                        }
                        race.addTask {
                            try? await Task.sleep(for: timeout)
                            return Task.isCancelled ? nil : "timed out after \(timeout)"
                        }
                        let first = await race.next() ?? nil
                        race.cancelAll()
                        return (name, first ?? "cancelled")
                    }
                }
            }
            var results: [String: String] = [:]
            for await (name, result) in group { results[name] = result }
            return results
        }
        return Report(isReady: results.values.allSatisfy { $0 == "ok" }, results: results)
    }
}

import Kafka

extension ReadinessChecks {
    /// "Kafka reachable": the broker answers a metadata request within two seconds.
    public func addKafkaCheck(_ producer: KafkaProducer) {
        add("kafka") { _ = try await producer.metadata(allTopics: false, timeout: .seconds(2)) }
    }
}
