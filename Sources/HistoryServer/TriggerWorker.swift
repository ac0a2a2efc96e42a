import Foundation
import PipelineEngine
import PipelineSpec
import RunStore
import Synchronization

/// Works through the webhook trigger queue (`trigger_queue`, ``TriggerRecord``): plans
/// each queued push, then runs the pipelines it touched, each with trigger `webhook`.
///
/// - A push is planned by ``PushPlanner`` (fetch the commit when missing, compare each
///   pipeline's inputs between the push's two commits); the plan queues one row per
///   pipeline to run. Pushes are planned one at a time, in the order they came.
/// - A pipeline row runs in a clone of the served repository at the pushed commit, on
///   the pushed branch (`git clone --shared`: the objects are borrowed, not copied; a
///   linked worktree would share the served repository's branches, so it could only be
///   detached, and the run would record no branch). The run goes through
///   `PipelineRunner.run`, the entry point of `mlpipe run`, into the served workspace;
///   file secrets are read from the served repository, as for `mlpipe rerun`'s worktrees.
/// - One pipeline on one branch runs one push at a time (the store's claim sees to it);
///   runs of other pipelines or branches happen beside it, at most `concurrency` at once.
///
/// Runs are children of ``run()``: when the server stops they are cancelled (recorded
/// `cancelled`) and their rows queued again, so they run when the server is back. A row
/// whose server was killed is found by ``SQLiteRunStore/recoverTriggers(host:isAlive:)``
/// on the next start.
final class TriggerWorker: Sendable {
    let store: SQLiteRunStore
    let planner: PushPlanner
    let runner: PipelineRunner
    let options: RunOptions
    let workspace: Workspace
    let concurrency: Int
    let log: @Sendable (String) -> Void
    private let wakes: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation
    /// Pipeline rows being run by this worker.
    private let running = Mutex(0)
    /// Run id -> the way to cancel it, for the runs in progress.
    private let cancellers = Mutex<[Int64: @Sendable () -> Void]>([:])

    init(store: SQLiteRunStore, runner: PipelineRunner, options: RunOptions, workspace: Workspace, repositoryRoot: String,
         concurrency: Int, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        var runner = runner
        let providers = runner.secretProviders
        // Secret files are git-ignored: the clone a push runs in does not have them.
        runner.secretProviders = { _ in providers(repositoryRoot) }
        self.runner = runner
        self.options = options
        self.workspace = workspace
        self.concurrency = max(1, concurrency)
        self.log = log
        planner = PushPlanner(repositoryRoot: repositoryRoot, kinds: runner.kinds.schemas,
                              secretProviders: providers(repositoryRoot).names,
                              git: GitCommand(scratch: workspace.root + "/tmp"))
        (wakes, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the worker that the queue changed (a hook queued a push).
    func wake() { signal.yield() }

    /// Stops taking rows; ``run()`` returns once the runs it started end.
    func finish() { signal.finish() }

    /// Recovers the rows of a server that died, then works on the queue until cancelled
    /// or finished.
    func run() async {
        recover()
        await withDiscardingTaskGroup { group in
            let ticks = self.signal
            // A slow poll besides the wake-ups: a claim that met a busy store is tried again.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    ticks.yield()
                }
            }
            ticks.yield()
            for await _ in wakes {
                await planQueuedPushes()
                startQueuedRuns(&group)
            }
            group.cancelAll()
        }
    }

    /// Rows left `running` by a server that is gone: queued again, or failed.
    func recover() {
        let recovery: TriggerRecovery
        do {
            recovery = try store.recoverTriggers()
        } catch {
            log("cannot look for triggers a stopped server left running: \(error)")
            return
        }
        if !recovery.requeued.isEmpty {
            log("\(Self.names(recovery.requeued)) \(recovery.requeued.count == 1 ? "was" : "were") running when the server "
                + "stopped: queued again")
        }
        if !recovery.failed.isEmpty {
            log("\(Self.names(recovery.failed)) failed: the server stopped \(SQLiteRunStore.maximumTriggerAttempts) times "
                + "while working on \(recovery.failed.count == 1 ? "it" : "them")")
        }
        for id in recovery.requeued + recovery.failed { removeCheckout(checkoutPath(id)) }
    }

    // MARK: - Pushes

    private func planQueuedPushes() async {
        while !Task.isCancelled {
            let claimed: TriggerRecord?
            do {
                claimed = try store.claimPush()
            } catch {
                log("cannot read the trigger queue: \(error)")
                return
            }
            guard let push = claimed, let id = push.id else { return }
            do throws(EngineError) {
                let plan = try await planner.plan(push)
                let ids = try recording { () throws(RunStoreError) in try store.planPush(id: id, pipelines: plan.pipelines, note: plan.note) }
                let queued = zip(plan.pipelines, ids).map { "\($0) as #\($1)" }.joined(separator: ", ")
                log("trigger #\(id): \(plan.note)" + (queued.isEmpty ? "" : "; queued \(queued)"))
            } catch {
                if Task.isCancelled {
                    requeue(id, note: "the server stopped while it was planned; queued again")
                    return
                }
                finish(id, .failed, run: nil, note: nil, error: error.description)
            }
        }
    }

    // MARK: - Pipeline runs

    private func startQueuedRuns(_ group: inout DiscardingTaskGroup) {
        while !Task.isCancelled, running.withLock({ $0 < concurrency }) {
            let claimed: TriggerRecord?
            do {
                claimed = try store.claimPipelineTrigger()
            } catch {
                log("cannot read the trigger queue: \(error)")
                return
            }
            guard let row = claimed else { return }
            running.withLock { $0 += 1 }
            group.addTask {
                await self.runPipeline(row)
                self.running.withLock { $0 -= 1 }
                self.signal.yield()
            }
        }
    }

    /// Cancels run `id` if this worker started it and it still runs (the page's cancel
    /// button): it is recorded `cancelled`, and its row `done`, not queued again.
    func cancel(run id: Int64) -> Bool {
        guard let cancel = cancellers.withLock({ $0[id] }) else { return false }
        cancel()
        return true
    }

    /// Runs one pipeline row beside a child that waits for the page's cancel button;
    /// whichever ends first ends the other.
    private func runPipeline(_ row: TriggerRecord) async {
        let (cancelSignal, cancelContinuation) = AsyncStream.makeStream(of: Void.self)
        let progress = RunProgress()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.perform(row, progress: progress) { runID in
                    self.cancellers.withLock {
                        $0[runID] = {
                            progress.cancelled.withLock { $0 = true }
                            cancelContinuation.yield()
                        }
                    }
                }
                cancelContinuation.finish()
            }
            group.addTask {
                for await _ in cancelSignal { return }
            }
            await group.next()
            group.cancelAll()
        }
        if let runID = progress.runID.withLock({ $0 }) {
            _ = cancellers.withLock { $0.removeValue(forKey: runID) }
        }
    }

    /// Runs one pipeline row in a clone at its commit, and records how it went.
    private func perform(_ row: TriggerRecord, progress: RunProgress,
                         started: @escaping @Sendable (Int64) -> Void) async {
        guard let id = row.id, let pipeline = row.pipeline else { return }
        let checkout = checkoutPath(id)
        defer { removeCheckout(checkout) }
        do throws(EngineError) {
            try await makeCheckout(of: row, at: checkout)
            var options = self.options
            options.pipeline = pipeline
            options.currentDirectory = checkout
            options.workspace = workspace.root
            options.trigger = .webhook
            options.params = []
            options.only = []
            options.force = []
            options.runName = nil
            options.requireClean = false
            let store = self.store
            let report = try await runner.run(options) { event in
                if case .runStarted(let header) = event {
                    progress.runID.withLock { $0 = header.id }
                    started(header.id)
                    // The end records it again; a failure here only leaves it out until then.
                    try? store.recordTriggerRun(id: id, runID: header.id)
                }
            }
            let status = report.status.rawValue
            if report.status == .cancelled && Task.isCancelled && !progress.cancelled.withLock({ $0 }) {
                requeue(id, note: "run #\(report.runID) was cancelled when the server stopped; queued again")
                return
            }
            finish(id, .done, run: report.runID, note: "run #\(report.runID) \(status)", error: nil)
            log("trigger #\(id): run #\(report.runID) of \(pipeline) on \(row.branch) at \(row.commit.prefix(7)) \(status)")
        } catch {
            if Task.isCancelled && !progress.cancelled.withLock({ $0 }) {
                requeue(id, note: "the server stopped before its run ended; queued again")
                return
            }
            finish(id, .failed, run: progress.runID.withLock { $0 }, note: nil, error: error.description)
        }
    }

    /// A clone of the served repository at the row's commit, on its branch.
    private func makeCheckout(of row: TriggerRecord, at path: String) async throws(EngineError) {
        removeCheckout(path)  // a killed server's leftover
        do {
            try FileManager.default.createDirectory(atPath: workspace.worktreesPath, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.environment, "cannot create \(workspace.worktreesPath): \(error.localizedDescription); make the workspace writable")
        }
        let git = planner.git
        let clone = try await git.run(["clone", "--quiet", "--shared", "--no-checkout", planner.repositoryRoot, path],
                                      in: workspace.worktreesPath)
        guard clone.succeeded else {
            throw EngineError(.environment, "cannot clone \(planner.repositoryRoot) into \(path) to run commit \(row.commit.prefix(7)): "
                + "\(clone.summary); check that the workspace's disk has room")
        }
        let checkout = try await git.run(["checkout", "--quiet", "--force", "-B", row.branch, row.commit], in: path)
        guard checkout.succeeded else {
            throw EngineError(.environment, "cannot check out commit \(row.commit.prefix(7)) as branch \(row.branch) in \(path): "
                + checkout.summary)
        }
    }

    private func checkoutPath(_ id: Int64) -> String { "\(workspace.worktreesPath)/webhook-\(id)" }

    private func removeCheckout(_ path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            log("cannot remove the checkout \(path): \(error.localizedDescription); remove it by hand")
        }
    }

    // MARK: - Recording

    private func finish(_ id: Int64, _ state: TriggerRecord.State, run: Int64?, note: String?, error: String?) {
        do {
            try store.finishTrigger(id: id, state: state, runID: run, note: note, error: error)
        } catch let failure {
            log("trigger #\(id) ended \(state.rawValue), but that cannot be recorded: \(failure)")
        }
        if state == .failed, let error { log("trigger #\(id) failed: \(error)") }
    }

    private func requeue(_ id: Int64, note: String) {
        do {
            try store.requeueTrigger(id: id, note: note)
        } catch {
            log("trigger #\(id) cannot be queued again: \(error); the next start of the server queues it")
        }
    }

    private func recording<T>(_ body: () throws(RunStoreError) -> T) throws(EngineError) -> T {
        do {
            return try body()
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
    }

    static func names(_ ids: [Int64]) -> String {
        (ids.count == 1 ? "trigger " : "triggers ") + ids.map { "#\($0)" }.joined(separator: ", ")
    }
}

/// What the tasks of one pipeline row share: the id of its run, once it has one, and
/// whether the page's cancel button stopped it (then its row is done, not queued again).
private final class RunProgress: Sendable {
    let runID = Mutex<Int64?>(nil)
    let cancelled = Mutex(false)
}
