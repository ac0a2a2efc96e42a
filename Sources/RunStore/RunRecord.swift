import Foundation

/// One run of a pipeline: a row of the `run` table.
///
/// It holds what is needed to tell later what ran and to run it again: the
/// pipeline file's content as it was (``pipelineSource``, so `mlpipe rerun` does
/// not depend on the working tree), the resolved params, the git commit, and the
/// process that ran it (``host``, ``pid``, ``pidStartTime``), so that a run whose
/// process died can be told apart from one still working.
///
/// ```swift
/// let (pid, startTime) = ProcessIdentity.current()
/// let id = try store.createRun(RunRecord(
///     pipeline: "iris", pipelineFile: "pipelines/iris.yaml",
///     pipelineSource: source, pipelineDigest: "sha256:…",
///     paramsJSON: #"{"min_accuracy":0.9}"#, commit: sha, branch: "main",
///     dirty: false, trigger: .cli, status: .running, startedAt: Date(),
///     version: "0.1.0", host: ProcessIdentity.hostName(), pid: pid,
///     pidStartTime: startTime), stages: planned)
/// ```
public struct RunRecord: Sendable, Codable, Hashable {
    /// The run's number (shown as `#42`), nil until ``RunStore/createRun(_:stages:)``
    /// assigns it. Ids increase and are never reused.
    public var id: Int64?
    /// The pipeline's `name:`.
    public var pipeline: String
    /// The pipeline file's path relative to the repository root, e.g. `pipelines/iris.yaml`.
    public var pipelineFile: String
    /// The pipeline file's whole content at the time of the run. Empty in the
    /// results of ``RunStore/runs(_:)``, which lists many runs.
    public var pipelineSource: String
    /// The digest of ``pipelineSource``, `sha256:…`.
    public var pipelineDigest: String
    /// The resolved params as a canonical JSON object (sorted keys, no spaces).
    public var paramsJSON: String
    /// The git commit the run used (full SHA).
    public var commit: String
    /// The branch checked out, or nil for a detached HEAD.
    public var branch: String?
    /// Whether an input was modified or untracked in the working tree.
    public var dirty: Bool
    /// What started the run.
    public var trigger: Trigger
    /// For a re-run, the run it re-ran.
    public var parentRun: Int64?
    /// Where the run stands.
    public var status: RunStatus
    /// When the run started.
    public var startedAt: Date
    /// When it ended; nil while `running`.
    public var finishedAt: Date?
    /// The mlpipe version that ran it.
    public var version: String
    /// The machine it ran on (its host name).
    public var host: String
    /// The process that ran it.
    public var pid: Int32
    /// That process's start time, field 22 of `/proc/<pid>/stat` (clock ticks
    /// since boot), so that a pid reused by another process is not taken for it.
    public var pidStartTime: Int64
    /// When `mlpipe runs prune` removed the run's folder (its outputs and logs); nil
    /// while the folder is there. The record itself is never pruned.
    public var prunedAt: Date?
    /// A short name given with `mlpipe run --name` (`baseline`, `lr sweep 3`), or nil.
    /// Names need not be unique: they label runs for people, ids identify them.
    public var name: String?
    /// Free text kept with the run (`mlpipe runs note`), or nil. It may span lines.
    public var note: String?

    /// A run record; `id`, `parentRun`, `finishedAt` and `prunedAt` are usually left out.
    public init(
        id: Int64? = nil,
        pipeline: String,
        pipelineFile: String,
        pipelineSource: String,
        pipelineDigest: String,
        paramsJSON: String = "{}",
        commit: String,
        branch: String?,
        dirty: Bool = false,
        trigger: Trigger = .cli,
        parentRun: Int64? = nil,
        status: RunStatus = .running,
        startedAt: Date,
        finishedAt: Date? = nil,
        version: String,
        host: String,
        pid: Int32,
        pidStartTime: Int64,
        prunedAt: Date? = nil,
        name: String? = nil,
        note: String? = nil
    ) {
        self.id = id
        self.pipeline = pipeline
        self.pipelineFile = pipelineFile
        self.pipelineSource = pipelineSource
        self.pipelineDigest = pipelineDigest
        self.paramsJSON = paramsJSON
        self.commit = commit
        self.branch = branch
        self.dirty = dirty
        self.trigger = trigger
        self.parentRun = parentRun
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.version = version
        self.host = host
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.prunedAt = prunedAt
        self.name = name
        self.note = note
    }
}
