import Synchronization

/// Work of a running stage that can be ended at once: a local process group, later a
/// Kubernetes Job.
///
/// `stopNow` is what a second Ctrl-C does: no grace period. It is called from whatever
/// thread handles the interrupt, so it must only signal (send SIGKILL, flag a request)
/// and never wait.
public protocol StoppableWork: AnyObject, Sendable {
    /// Ends the work now, with everything it started.
    func stopNow()
}

/// The stages running in this process, which an interrupt can end at once.
///
/// Cancelling a run stops each stage politely (SIGTERM, then SIGKILL after the grace
/// period). A user who does not want to wait presses Ctrl-C again; mlpipe's signal
/// handling cannot reach into the tasks of the run, so the executors register what they
/// start here, and `stopAllNow()` escalates every stop at once. The run then ends through
/// its normal cancellation path, which records each stage `cancelled`.
///
/// After `stopAllNow()`, work registered later is stopped as soon as it is registered:
/// a stage that was starting in the same instant cannot escape. Tests make their own
/// instance, so that they never stop another test's processes.
public final class RunningStages: Sendable {
    /// The registry that `LocalProcessExecutor` uses unless given another, and that
    /// mlpipe's interrupt handling escalates.
    public static let shared = RunningStages()

    /// One running stage, as an interrupt message names it.
    public struct Entry: Sendable, Equatable {
        public var stageName: String
        /// Seconds it gets between SIGTERM and SIGKILL.
        public var gracePeriod: Double

        public init(stageName: String, gracePeriod: Double) {
            self.stageName = stageName
            self.gracePeriod = gracePeriod
        }
    }

    struct State {
        var nextToken = 0
        var entries: [Int: (entry: Entry, work: any StoppableWork)] = [:]
        var stoppingNow = false
    }

    // `stopNow` is called with this lock held, so that once `unregister` returns no call
    // can still reach the work (the executor reaps its process only after that).
    private let state = Mutex(State())

    public init() {}

    /// Adds running work and returns the token that removes it. Call it only once the
    /// work exists (the process is spawned), and `unregister` before releasing what
    /// `stopNow` acts on (before reaping the process).
    public func register(_ entry: Entry, work: any StoppableWork) -> Int {
        state.withLock { s in
            s.nextToken += 1
            s.entries[s.nextToken] = (entry, work)
            if s.stoppingNow { work.stopNow() }
            return s.nextToken
        }
    }

    /// Removes the work registered under `token`.
    public func unregister(_ token: Int) {
        _ = state.withLock { s in s.entries.removeValue(forKey: token) }
    }

    /// What is running now, by stage name.
    public var running: [Entry] {
        state.withLock { s in s.entries.values.map(\.entry) }
            .sorted { ($0.stageName, $0.gracePeriod) < ($1.stageName, $1.gracePeriod) }
    }

    /// Stops everything registered, now and from now on, and returns what it stopped.
    @discardableResult
    public func stopAllNow() -> [Entry] {
        state.withLock { s in
            s.stoppingNow = true
            for (_, value) in s.entries { value.work.stopNow() }
            return s.entries.values.map(\.entry)
        }
        .sorted { $0.stageName < $1.stageName }
    }
}
