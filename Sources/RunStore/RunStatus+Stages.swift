import Foundation

extension RunStatus {
    /// The status of a run that several processes record, one or a few stages each (the
    /// tasks of one Argo workflow joined by `mlpipe run --run-key`), read from its stages
    /// alone, since no single process sees the run end.
    ///
    /// - A stage `running` keeps the run `running`: someone works on it.
    /// - With stages still `pending`, the run stays `running` unless one stage `failed`
    ///   (or was `skipped` or `cancelled`): a workflow engine starts no new task after a
    ///   failure (Argo's `failFast`), so the run ends `failed` (or `cancelled`) there. A
    ///   retried task that later succeeds makes it `running` again, through this rule.
    /// - With every stage finished: `failed` if one failed or was skipped (a task's own
    ///   stage is skipped only when what it needs did not succeed), else `cancelled` if one
    ///   was, else `succeeded`.
    public static func ofStages(_ statuses: [StageStatus]) -> RunStatus {
        if statuses.contains(.running) { return .running }
        let failed = statuses.contains(.failed) || statuses.contains(.skipped)
        let cancelled = statuses.contains(.cancelled)
        if statuses.contains(.pending) && !failed && !cancelled { return .running }
        if failed { return .failed }
        return cancelled ? .cancelled : .succeeded
    }

    /// When a run that ``ofStages(_:)`` rates `status` ended: the last end among its
    /// stages (the run's start when none has one), or nil while it runs.
    public static func finishedAt(_ status: RunStatus, stageEnds: [Date?], startedAt: Date) -> Date? {
        guard status.isFinished else { return nil }
        return stageEnds.compactMap { $0 }.max().map { max($0, startedAt) } ?? startedAt
    }
}
