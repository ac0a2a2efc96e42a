import Foundation
import PipelineEngine
import RunStore
import Synchronization

/// Starts the runs the pages ask for (re-run, re-run from a stage) and cancels running
/// ones, through the engine's entry points that `mlpipe rerun` and Ctrl-C use.
///
/// Runs started here are children of ``run()``'s task group, which lives beside the HTTP
/// server: stopping the server cancels them, and the engine records them `cancelled`.
/// A request hands its job over an `AsyncStream` and waits only until the run has an
/// id (or failed to start), so it can redirect to the new run's page.
final class RunLauncher: Sendable {
    /// What a started job answers: the new run's id, or why it did not start.
    typealias Started = Result<Int64, EngineError>

    struct Job: Sendable {
        var run: Int64
        var from: String?
        var started: @Sendable (Started) -> Void
    }

    let runner: PipelineRunner
    let options: RunOptions
    private let jobs: AsyncStream<Job>
    private let submit: AsyncStream<Job>.Continuation
    /// Run id -> the way to cancel it, for runs this server started.
    private let cancellers = Mutex<[Int64: @Sendable () -> Void]>([:])

    init(runner: PipelineRunner, options: RunOptions) {
        self.runner = runner
        self.options = options
        (jobs, submit) = AsyncStream.makeStream(of: Job.self)
    }

    /// Re-runs `run` (from `stage`, when given) and returns the new run's id once it
    /// has one.
    func rerun(_ run: Int64, from stage: String?) async throws(EngineError) -> Int64 {
        let result: Started = await withCheckedContinuation { continuation in
            let once = Mutex(false)
            let job = Job(run: run, from: stage) { result in
                let first = once.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: result) }
            }
            if case .terminated = submit.yield(job) {
                job.started(.failure(EngineError(.environment, "the server is stopping; start the run again once it is back")))
            }
        }
        return try result.get()
    }

    /// Cancels run `id`: one started here through its task, one started elsewhere on this
    /// machine by SIGINT to its process (what Ctrl-C does). Says what it did.
    func cancel(_ record: RunRecord) throws(EngineError) -> String {
        guard let id = record.id, record.status == .running else {
            throw EngineError(.definition, "run #\(record.id ?? 0) is \(record.status.rawValue), not running; there is nothing to cancel")
        }
        if let cancel = cancellers.withLock({ $0[id] }) {
            cancel()
            return "cancelling run #\(id)"
        }
        // SIGINT to this server's own process would stop the server, not the run.
        let own = ProcessIdentity.current()
        guard record.pid != own.pid || record.pidStartTime != own.startTime || record.host != ProcessIdentity.hostName() else {
            throw EngineError(.definition, "run #\(id) was started by this server and is ending; reload the page")
        }
        guard record.host == ProcessIdentity.hostName() else {
            throw EngineError(.definition, "run #\(id) runs on \(record.host), not on this machine; cancel it there (Ctrl-C)")
        }
        guard ProcessIdentity.isAlive(pid: record.pid, startTime: record.pidStartTime), kill(record.pid, SIGINT) == 0 else {
            throw EngineError(.definition, "the process of run #\(id) (pid \(record.pid)) is gone; the run will be marked interrupted")
        }
        return "sent an interrupt to run #\(id) (pid \(record.pid)), as Ctrl-C does"
    }

    /// Runs the jobs as they come, each as a child of this task, until cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.perform(job) }
            }
        }
    }

    /// Stops accepting jobs; ``run()`` returns once the running ones end.
    func finish() { submit.finish() }

    /// One re-run, beside a child that waits for a cancel.
    private func perform(_ job: Job) async {
        let (cancelSignal, cancelContinuation) = AsyncStream.makeStream(of: Void.self)
        let runner = runner, options = options
        let runID = StartedID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do throws(EngineError) {
                    _ = try await runner.rerun(String(job.run), from: job.from, options: options) { event in
                        if case .runStarted(let header) = event {
                            runID.value.withLock { $0 = header.id }
                            self.cancellers.withLock { $0[header.id] = { cancelContinuation.yield() } }
                            job.started(.success(header.id))
                        }
                    }
                } catch {
                    job.started(.failure(error))
                }
                // A run that ended before it had an id (a bad stage name) answered above.
                cancelContinuation.finish()
            }
            // Ends on the first cancel, or when the run ends and finishes the stream.
            group.addTask {
                for await _ in cancelSignal { return }
            }
            // Whichever child ends first, the other is cancelled: a cancel stops the run
            // (recorded `cancelled`), a finished run ends the waiter.
            await group.next()
            group.cancelAll()
        }
        if let id = runID.value.withLock({ $0 }) {
            _ = cancellers.withLock { $0.removeValue(forKey: id) }
        }
    }
}

/// The id of the run a job started, once it has one: shared by the job's event handler
/// and the code that forgets its canceller.
private final class StartedID: Sendable {
    let value = Mutex<Int64?>(nil)
}
