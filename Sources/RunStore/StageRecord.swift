import Foundation

/// One stage of one run: a row of the `stage` table, keyed by (`runID`, `name`).
///
/// The engine creates every planned stage `pending` with its run, then replaces
/// the record through ``RunStore/updateStage(_:outputs:)`` as the stage runs.
/// Besides the outcome it keeps why the stage ran: ``reason`` is the sentence
/// shown to the user, and ``keyComponentsJSON`` the fields its cache key was made
/// of, so that the next run can say which one changed.
public struct StageRecord: Sendable, Codable, Hashable {
    /// The run this stage belongs to.
    public var runID: Int64
    /// The stage's name in the pipeline file; unique within a run.
    public var name: String
    /// Its kind: `command`, `validate`, `serialize`, …
    public var kind: String
    /// Its place in the plan (a topological order), from 0; lists sort by it.
    public var position: Int
    /// Where it stands.
    public var status: StageStatus
    /// Its cache key (`sha256:…`), once computed; nil for stages that are not cached.
    public var cacheKey: String?
    /// For a `cached` stage, the run whose outputs it reused.
    public var cachedFrom: Int64?
    /// How many times it was started (retries count), 0 before it runs.
    public var attempts: Int
    /// The last attempt's exit status, for stages that run a process.
    public var exitCode: Int32?
    /// Why it failed or was cancelled, as shown to the user.
    public var error: String?
    /// Why it ran or was cached, a sentence such as "input data.csv changed".
    public var reason: String?
    /// The cache key's fields as a JSON object, to explain the next re-run.
    public var keyComponentsJSON: String?
    /// The values of its `metrics` file, as JSON.
    public var metricsJSON: String?
    /// The typed results its kind returned (`{"sha256": "sha256:…"}`), as JSON; restored
    /// from the cache entry on a hit.
    public var resultsJSON: String?
    /// What went wrong in the stage's bookkeeping without failing it (a cache entry
    /// that could not be saved), as a JSON array of sentences.
    public var warningsJSON: String?
    /// When its first attempt started.
    public var startedAt: Date?
    /// When it ended.
    public var finishedAt: Date?
    /// Its log file, relative to the workspace.
    public var logPath: String?
    /// The machine that ran it (``ProcessIdentity/hostName()``), or nil for a stage that
    /// never ran (pending, skipped) and for records older than the column: then it is the
    /// run's ``RunRecord/host``. Differs from the run's host when the stages of one run
    /// ran on several machines (`mlpipe run --run-key`, a workflow's tasks).
    public var host: String?

    /// A stage record; a planned stage needs only the first five fields.
    public init(
        runID: Int64 = 0,
        name: String,
        kind: String,
        position: Int,
        status: StageStatus = .pending,
        cacheKey: String? = nil,
        cachedFrom: Int64? = nil,
        attempts: Int = 0,
        exitCode: Int32? = nil,
        error: String? = nil,
        reason: String? = nil,
        keyComponentsJSON: String? = nil,
        metricsJSON: String? = nil,
        resultsJSON: String? = nil,
        warningsJSON: String? = nil,
        startedAt: Date? = nil,
        finishedAt: Date? = nil,
        logPath: String? = nil,
        host: String? = nil
    ) {
        self.runID = runID
        self.name = name
        self.kind = kind
        self.position = position
        self.status = status
        self.cacheKey = cacheKey
        self.cachedFrom = cachedFrom
        self.attempts = attempts
        self.exitCode = exitCode
        self.error = error
        self.reason = reason
        self.keyComponentsJSON = keyComponentsJSON
        self.metricsJSON = metricsJSON
        self.resultsJSON = resultsJSON
        self.warningsJSON = warningsJSON
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.logPath = logPath
        self.host = host
    }
}

extension Array where Element == StageRecord {
    /// Throws ``RunStoreError/Code/invalidRecord`` naming the first stage given twice: what
    /// every store checks before it records a run's stages.
    public func checkDistinctNames(operation: String, path: String?) throws(RunStoreError) {
        var seen = Set<String>()
        for stage in self where !seen.insert(stage.name).inserted {
            throw RunStoreError(code: .invalidRecord, operation: operation, path: path,
                                reason: "stage '\(stage.name)' is given twice", remedy: "give each stage of a run once")
        }
    }
}
