import Dispatch

/// The task executor a smoke test's schedule runs on: a concurrent dispatch queue of its
/// own, outside the cooperative pool. The pool has one thread per core, and other work of
/// the process (a stage hashing a large model, a caller that waits on a process) can hold
/// them all; a schedule that waited behind that work would send late and report the wait
/// as the service's latency. On its own queue it competes for the cores as any thread
/// does, and its timing stays the service's.
final class SmokeExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = SmokeExecutor()

    private let queue = DispatchQueue(label: "mlpipe.smoke-test", qos: .userInitiated, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
