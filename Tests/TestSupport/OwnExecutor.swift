import Dispatch

/// A task executor on a serial dispatch queue of its own. The test process runs
/// synchronous tests on the cooperative threads (one per core), and a test that waits on a
/// process there can hold one for minutes; work that is timed (a smoke test's schedule)
/// runs here instead, on a thread that the queue gets whenever it has work.
public final class QueueTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    /// An executor on a new serial queue named `label`.
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// Runs `body`, and the child tasks it starts, on a ``QueueTaskExecutor`` of its own.
public func onOwnExecutor<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    let executor = QueueTaskExecutor(label: "mlpipe-tests-timed")
    defer { withExtendedLifetime(executor) {} }  // the preference does not keep it alive
    return try await withTaskExecutorPreference(executor, operation: body)
}
