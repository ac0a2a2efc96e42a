/// Where one stage of a run stands.
///
/// Stages are created `pending` with their run. `cached` means the outputs came
/// from an earlier run (``StageRecord/cachedFrom``) without running anything;
/// `skipped` means the stage was left out (`--only`, or an upstream stage failed);
/// `cancelled` means it was stopped, or its run was interrupted.
public enum StageStatus: String, Sendable, Codable, CaseIterable {
    /// Planned, not started.
    case pending
    /// Its process is working.
    case running
    /// Ran and produced its outputs.
    case succeeded
    /// Ran and failed (see ``StageRecord/error`` and ``StageRecord/exitCode``).
    case failed
    /// Reused an earlier run's outputs.
    case cached
    /// Not run, by choice or because something upstream failed.
    case skipped
    /// Stopped before it finished.
    case cancelled

    /// Whether the stage produced usable outputs: `succeeded` or `cached`.
    public var hasOutputs: Bool { self == .succeeded || self == .cached }
}
