// Tests that hold their thread for long (training a model, waiting on a child process) run
// on a thread of their own instead of Swift's shared cooperative pool. Swift Testing calls
// a synchronous test function on that pool, which has one thread per core: two such tests
// at once (2 cores) stalled every other suite for 11 s, and a readiness check that must
// answer in 200 ms took 11.5 s. Mark a suite or test that blocks `.ownThread`, one that
// computes for long `.computeThread`.
import Foundation
import Testing

/// Moves the test cases of the suite or test it marks off Swift's shared pool.
public struct OwnThreadTrait: TestTrait, SuiteTrait, TestScoping {
    enum Placement: Sendable { case threadPerTestCase, sharedComputeThread }
    let placement: Placement

    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        // A suite's own scope (testCase nil) needs no thread: its test cases each get one.
        guard testCase != nil else { return try await function() }
        switch placement {
        case .threadPerTestCase:
            let executor = ThreadExecutor(name: "test: \(test.name.prefix(40))")
            defer { executor.finish() }
            try await withTaskExecutorPreference(executor) { try await function() }
        case .sharedComputeThread:
            try await withTaskExecutorPreference(Self.computeThread) { try await function() }
        }
    }

    /// One thread for every long computation of the process: they take turns, so they
    /// neither hold the pool nor crowd the two cores with a thread each.
    static let computeThread = ThreadExecutor(name: "test: compute")
}

extension Trait where Self == OwnThreadTrait {
    /// A thread for each test case, for tests that block it (waiting on a child process,
    /// reading a pipe): a blocked thread costs no CPU, so they may be many.
    public static var ownThread: Self { OwnThreadTrait(placement: .threadPerTestCase) }

    /// The one shared compute thread, for tests that compute for seconds (training models,
    /// thousands of random cases): on a thread each, twenty of them starved everything else
    /// of CPU, the broker's threads included.
    public static var computeThread: Self { OwnThreadTrait(placement: .sharedComputeThread) }
}

/// A task executor with one thread of its own; `finish()` ends the thread once its queue is
/// empty. A job that still arrives later (a child task outliving the test) gets a thread
/// of its own rather than being dropped.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `finished` are touched only under `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false
    private var exited = false

    public init(name: String) {
        let thread = Thread { [self] in serve() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if exited {
            condition.unlock()
            Thread { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }.start()
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    public func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {
                exited = true
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
