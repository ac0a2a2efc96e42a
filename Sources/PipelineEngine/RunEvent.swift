import Foundation
import PipelineSpec
import RunStore

/// What happened to one stage, as the console, `--json` and JUnit report it.
///
/// The event's view of a stage; its row in the history is `StageRecord` (RunStore),
/// what it hands to later stages is `StageOutcome`, and what `status` predicts for it
/// is `StagePlan`.
public struct StageSummary: Sendable {
    public var name: String
    public var kind: String
    public var status: StageStatus
    public var startedAt: Date?
    public var finishedAt: Date?
    public var cachedFrom: Int64?
    public var cacheKey: String?
    public var attempts: Int
    public var exitCode: Int32?
    /// Masked.
    public var error: String?
    /// Why the stage ran, was cached or was skipped.
    public var reason: String?
    /// The last lines of its log, masked (failures only).
    public var logTail: [String]
    public var logPath: String?
    /// The typed results its kind returned (or its cached result held).
    public var results: [String: Value] = [:]
    /// What went wrong in its bookkeeping without failing it, masked.
    public var warnings: [String] = []

    public var duration: Double? {
        guard let startedAt, let finishedAt else { return nil }
        return finishedAt.timeIntervalSince(startedAt)
    }
}

/// The head of a run, announced when it starts.
public struct RunHeader: Sendable {
    public var id: Int64
    public var pipeline: String
    public var pipelineFile: String
    public var commit: String
    public var branch: String?
    public var dirty: Bool
    public var parentRun: Int64?
    public var stageCount: Int
    public var startedAt: Date
}

/// One event of a run, in the order it happened.
public enum RunEvent: Sendable {
    case runStarted(RunHeader)
    case stageStarted(stage: String, attempt: Int, at: Date)
    case stageRetrying(stage: String, attempt: Int, message: String, at: Date)
    /// Something went wrong without failing the stage (its result could not be cached).
    case stageWarning(stage: String, message: String, at: Date)
    case stageFinished(StageSummary)
    case runFinished(RunReport)
}

/// How a run ended.
public struct RunReport: Sendable {
    public var runID: Int64
    public var pipeline: String
    public var status: RunStatus
    public var startedAt: Date
    public var finishedAt: Date
    public var stages: [StageSummary]
    /// Stages that failed because of the machine (a full disk, an unwritable folder),
    /// not the pipeline: mlpipe then exits 3, not 1.
    public var environmentFailures: [String] = []

    public var duration: Double { finishedAt.timeIntervalSince(startedAt) }

    public func count(_ status: StageStatus) -> Int { stages.filter { $0.status == status }.count }
}
