import Foundation

/// One row of the webhook trigger queue (`trigger_queue`, see ``Schema/addTriggerQueue(_:)``):
/// a push that `mlpipe serve` received, or one pipeline run that a push asked for.
///
/// A push row has no ``pipeline``; planning it (fetching the commit, finding the pipelines
/// the push touched) adds one pipeline row per pipeline to run, each naming the push in
/// ``pushID``. Both kinds go `queued` → `running` → `done` or `failed`. A pipeline row is
/// `done` once its run is recorded, whatever the run's status (the run says that); it is
/// `failed` when no run could be made (the commit cannot be fetched, the pipeline file
/// does not parse), and ``error`` says why.
public struct TriggerRecord: Sendable, Hashable {
    /// Where the push came from.
    public enum Source: String, Sendable, Hashable, CaseIterable {
        case github
        case gitlab
    }

    /// Where a row is in the queue.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Waiting for the worker.
        case queued
        /// A worker claimed it (``workerPid`` on ``workerHost``) and works on it.
        case running
        /// Planned (a push) or run (a pipeline).
        case done
        /// Nothing (more) will happen; ``error`` says why.
        case failed
    }

    /// Assigned by the store; nil before the row is written.
    public var id: Int64?
    public var source: Source
    /// `X-GitHub-Delivery` or `X-Gitlab-Event-UUID`: the same delivery is queued once.
    public var deliveryID: String
    /// The pushed branch, without `refs/heads/`.
    public var branch: String
    /// The commit the push moved the branch to (full hex id).
    public var commit: String
    /// The commit the branch was at before the push; nil when unknown or new, and then
    /// every pipeline runs.
    public var before: String?
    /// The pipeline to run (a name under `pipelines/`); nil for the push itself.
    public var pipeline: String?
    /// For a pipeline row, the push it came from.
    public var pushID: Int64?
    public var state: State
    /// The run the row started, once it has an id.
    public var runID: Int64?
    /// How many times a worker claimed the row.
    public var attempts: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// What happened, for a person: "touched demo, iris", "run #12 succeeded".
    public var note: String?
    /// Why the row failed; never holds a secret.
    public var error: String?

    /// A row; a new push is `queued`, with no id, run or times but its creation.
    public init(id: Int64? = nil, source: Source, deliveryID: String, branch: String, commit: String, before: String?,
                pipeline: String? = nil, pushID: Int64? = nil, state: State = .queued, runID: Int64? = nil,
                attempts: Int = 0, createdAt: Date = Date(), startedAt: Date? = nil, finishedAt: Date? = nil,
                note: String? = nil, error: String? = nil) {
        self.id = id
        self.source = source
        self.deliveryID = deliveryID
        self.branch = branch
        self.commit = commit
        self.before = before
        self.pipeline = pipeline
        self.pushID = pushID
        self.state = state
        self.runID = runID
        self.attempts = attempts
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.note = note
        self.error = error
    }
}

/// What ``SQLiteRunStore/recoverTriggers(host:isAlive:maximumAttempts:)`` did with the
/// rows whose worker died.
public struct TriggerRecovery: Sendable, Hashable {
    /// Queued again: they run (or are planned) once more.
    public var requeued: [Int64]
    /// Failed: their worker died ``SQLiteRunStore/maximumTriggerAttempts`` times.
    public var failed: [Int64]

    /// A recovery.
    public init(requeued: [Int64] = [], failed: [Int64] = []) {
        self.requeued = requeued
        self.failed = failed
    }
}
