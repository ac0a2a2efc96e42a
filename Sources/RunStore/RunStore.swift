import Foundation

/// The history of pipeline runs: what ran, on which commit, with which inputs and
/// outputs. History only: what a cache key produced is the ``CacheIndex``'s.
///
/// This protocol is the seam between mlpipe and its database: ``SQLiteRunStore`` (one
/// `workspace/mlpipe.db` file), ``InMemoryRunStore`` (the engine's unit tests), and
/// `PostgresRunStore` (a team-wide history, its own target). Requirements are `async` so that a
/// networked store fits; the SQLite store answers them synchronously. Implementations must be
/// safe to use from several threads and from several processes on one database at
/// once, as CI does, and every method is one short transaction: a caller never
/// holds the database between calls.
///
/// Run ids increase and are never reused; they are shown to users as `#42`.
/// Times are stored to within a microsecond, so compare a read-back `Date` with a
/// tolerance rather than `==` when it came from `Date()`.
///
/// Every method throws ``RunStoreError``, whose description says what failed and
/// how to fix it, and never contains the values that were written.
public protocol RunStore: Sendable {
    /// Records a new run and its stages in one transaction, and returns the run's id.
    ///
    /// `run.id` is ignored. Each stage's `runID` is replaced by the new id, so the
    /// caller can build them before the run exists. Stages are normally `pending`.
    func createRun(_ run: RunRecord, stages: [StageRecord]) async throws(RunStoreError) -> Int64

    /// Records the run of `key`, or finds it, and returns its id: how the tasks of one
    /// workflow, each a process of its own on a machine of its own, record into one run
    /// (`mlpipe run --run-key KEY`).
    ///
    /// The first caller creates `run` (`running`, `id` ignored) with `stages`, as
    /// ``createRun(_:stages:)`` does, under `key`; every later one, even at the same
    /// moment from another machine, gets the same id, and adds those of `stages` the run
    /// lacks (the others stay as recorded). Each task then records its own stages with
    /// ``updateStage(_:outputs:)``, and that sets the run's status from its stages
    /// (``RunStatus/ofStages(_:)``): no one process sees the run end, so none calls
    /// ``finishRun(id:status:finishedAt:)``. A keyed run is never marked `interrupted`
    /// (``markInterruptedRuns(host:isAlive:)``): the workflow engine watches its tasks.
    func joinRun(_ run: RunRecord, key: String, stages: [StageRecord]) async throws(RunStoreError) -> Int64

    /// Inserts or replaces the stage `(stage.runID, stage.name)` in one transaction.
    ///
    /// When `outputs` is not nil, they replace every output previously recorded for
    /// that stage (an empty array clears them); nil leaves the outputs as they are,
    /// which is what a status change such as `pending -> running` wants. Each output
    /// must name this stage and run. Throws ``RunStoreError/Code/notFound`` when
    /// the run does not exist. In a run joined by key (``joinRun(_:key:stages:)``), the
    /// same transaction sets the run's status and end from its stages.
    func updateStage(_ stage: StageRecord, outputs: [OutputRecord]?) async throws(RunStoreError)

    /// Sets a run's final status and end time. Throws ``RunStoreError/Code/notFound``
    /// when the run does not exist.
    func finishRun(id: Int64, status: RunStatus, finishedAt: Date) async throws(RunStoreError)

    /// The run with that id, with its pipeline source, or nil.
    func run(id: Int64) async throws(RunStoreError) -> RunRecord?

    /// The newest run's id, of one pipeline or of any; nil when there is none.
    /// This is what `mlpipe runs show latest` means.
    func latestRunID(pipeline: String?) async throws(RunStoreError) -> Int64?

    /// Runs matching `filter`, newest (highest id) first.
    ///
    /// For speed over a long history, list results carry an empty `pipelineSource`;
    /// ``run(id:)`` returns the whole record.
    func runs(_ filter: RunFilter) async throws(RunStoreError) -> [RunRecord]

    /// A run's stages in pipeline order (by `position`, then name); empty for an
    /// unknown run.
    func stages(runID: Int64) async throws(RunStoreError) -> [StageRecord]

    /// A run's outputs, in stage order, then by output name.
    func outputs(runID: Int64) async throws(RunStoreError) -> [OutputRecord]

    /// The newest record of `stage` in `pipeline` whose status is `succeeded` or
    /// `cached` and that has `keyComponentsJSON`, leaving out run `excludingRun`
    /// (the run being planned). It answers "why did this stage re-run?": the
    /// caller compares its new key components with these.
    func lastResult(pipeline: String, stage: String, excludingRun: Int64?) async throws(RunStoreError) -> StageRecord?

    /// Marks `interrupted` every run still `running` on `host` whose process is
    /// gone, and returns their ids in increasing order.
    ///
    /// `isAlive(pid, pidStartTime)` decides whether the process is gone; it is
    /// called outside any transaction, normally with ``ProcessIdentity/isAlive(pid:startTime:)``.
    /// The `running` and `pending` stages of such runs become `cancelled` with the
    /// error "run interrupted"; the run's `finishedAt` becomes the last time
    /// recorded for it or its stages. Runs on other hosts are left alone: their
    /// processes cannot be seen from here.
    func markInterruptedRuns(host: String, isAlive: (Int32, Int64) -> Bool) async throws(RunStoreError) -> [Int64]

    /// The newest attempt of `stage` in runs of `pipeline` other than `excludingRun`
    /// that got as far as an outcome: succeeded, cached, failed or cancelled.
    func lastAttempt(pipeline: String, stage: String, excludingRun: Int64?) async throws(RunStoreError) -> StageRecord?

    /// How many runs the store holds.
    func runCount() async throws(RunStoreError) -> Int

    /// The names of the pipelines that have runs, sorted.
    func pipelineNames() async throws(RunStoreError) -> [String]

    /// The finished runs whose folders `selection` picks for `mlpipe runs prune`,
    /// oldest first: never a `running` run, nor one already pruned. List results,
    /// with an empty `pipelineSource`.
    func runsToPrune(_ selection: PruneSelection) async throws(RunStoreError) -> [RunRecord]

    /// Records, in one transaction, that the folders of `runIDs` were removed at
    /// `date`, and returns the ids it marked: a run that is `running`, already pruned
    /// or unknown is left as it is. The record stays, with its stages and outputs,
    /// so `runs`, `runs show` and `runs diff` still show it.
    func markPruned(runIDs: [Int64], at date: Date) async throws(RunStoreError) -> [Int64]

    /// Sets the note of run `runID` to `text` (an empty text removes it), or with
    /// `append` adds `text` as a new line below the note it has, in one transaction, so
    /// that two appends at once both land. Returns the run as it now is. Throws
    /// ``RunStoreError/Code/notFound`` when the run does not exist.
    func setNote(runID: Int64, _ text: String, append: Bool) async throws(RunStoreError) -> RunRecord
}

extension RunStore {
    /// ``markInterruptedRuns(host:isAlive:)`` for this machine, deciding with
    /// ``ProcessIdentity``: what every mlpipe command calls right after opening
    /// the store.
    public func markInterruptedRuns() async throws(RunStoreError) -> [Int64] {
        try await markInterruptedRuns(host: ProcessIdentity.hostName(), isAlive: ProcessIdentity.isAlive)
    }
}
