// A value behind a lock, shareable across threads (librdkafka's and Swift's alike).
import Foundation
import Synchronization

package final class Locked<Value>: @unchecked Sendable {
    // @unchecked: every access to `value` goes through `lock`.
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// A flag that flips once from false to true, readable from any thread without a lock.
final class OnceFlag: Sendable {
    private let atomic = Atomic<Bool>(false)
    var isSet: Bool { atomic.load(ordering: .acquiring) }
    /// Sets the flag; returns false when it was already set.
    @discardableResult
    func set() -> Bool { !atomic.exchange(true, ordering: .acquiringAndReleasing) }
}

/// A continuation that the first of several racing paths resumes (a C call finishing, a
/// timer firing); later calls are ignored.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Locked<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = Locked(continuation) }

    func resume(_ value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
