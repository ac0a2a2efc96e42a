/// Where a run stands.
///
/// A run starts `running` and ends in one of the other four. `interrupted` is not
/// set by the run itself: its process died (killed, machine rebooted) and the next
/// mlpipe command that opened the store noticed, through
/// ``RunStore/markInterruptedRuns(host:isAlive:)``. The raw values are what the
/// database and `--json` output hold.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    /// The run's process is (or was last seen) working on it.
    case running
    /// Every stage succeeded, was cached or was skipped.
    case succeeded
    /// At least one stage failed.
    case failed
    /// The user stopped it (Ctrl-C, SIGTERM) and mlpipe recorded that itself.
    case cancelled
    /// Its process died without recording an end.
    case interrupted

    /// Whether the run has ended; only `running` has not.
    public var isFinished: Bool { self != .running }
}
