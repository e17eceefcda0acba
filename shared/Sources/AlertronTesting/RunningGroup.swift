// A service group run in a task of its own, for tests that start a service and stop it as
// SIGTERM would, or wait for it to end by itself.
import Logging
import ServiceLifecycle

public final class RunningGroup: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public init(_ group: ServiceGroup) {
        self.group = group
        task = Task { try await group.run() }
    }

    public convenience init(_ services: [any Service], logger: Logger) {
        self.init(ServiceGroup(configuration: .init(services: services, logger: logger)))
    }

    /// Graceful shutdown (what SIGTERM does); returns how the group ended.
    public func stop() async -> Result<Void, any Error> {
        await group.triggerGracefulShutdown()
        return await task.result
    }

    /// Waits for the group to end on its own (after a fatal error or a finite run).
    public func ended() async -> Result<Void, any Error> { await task.result }
}
