import Foundation
internal import GRDB

/// How a ``RunRecord`` maps to a row of the `run` table.
extension RunRecord {
    /// The columns a list reads: all but `pipeline_source`, which comes before
    /// `pruned_at` in the table but is stored in overflow pages that a list never
    /// reads (see ``Schema/addPrunedAt(_:)``), then the run's name and note from
    /// `run_note` (see ``Schema/addRunNotes(_:)``), read through ``source``.
    package static let listColumns = """
        id, pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, triggered_by, \
        parent_run, status, started_at, finished_at, version, host, pid, pid_start_time, params_json, pruned_at, \
        run_note.name, run_note.note
        """

    /// Every column, in ``init(row:)`` order.
    package static let columns = listColumns + ", pipeline_source"

    /// What a query of runs reads from: each run with its name and note, if any.
    package static let source = "run LEFT JOIN run_note ON run_note.run_id = run.id"

    /// The INSERT statement; `id` comes from SQLite.
    static let insertSQL = """
        INSERT INTO run (pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, \
        triggered_by, parent_run, status, started_at, finished_at, version, host, pid, pid_start_time, \
        params_json, pipeline_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The arguments of ``insertSQL``.
    var insertArguments: StatementArguments {
        arguments([
            pipeline, pipelineFile, pipelineDigest, commit, branch, dirty, trigger.rawValue,
            parentRun, status.rawValue, startedAt.timeIntervalSince1970, finishedAt?.timeIntervalSince1970,
            version, host, pid, pidStartTime, paramsJSON, pipelineSource,
        ])
    }

    /// A record from a row of ``columns`` or ``listColumns`` (then with an empty
    /// `pipelineSource`).
    init(row: Row) throws(RunStoreError) {
        let id = Int64.fromDatabaseValue(row[0] as DatabaseValue)
        let reader = RowReader(row: row, table: "run", key: id.map { "run #\($0)" } ?? "a run")
        self.init(
            id: try reader.value(0, "id"),
            pipeline: try reader.value(1, "pipeline"),
            pipelineFile: try reader.value(2, "pipeline_file"),
            pipelineSource: row.count > 20 ? try reader.value(20, "pipeline_source") : "",
            pipelineDigest: try reader.value(3, "pipeline_digest"),
            paramsJSON: try reader.value(16, "params_json"),
            commit: try reader.value(4, "git_commit"),
            branch: try reader.optional(5, "git_branch"),
            dirty: try reader.value(6, "git_dirty"),
            trigger: try reader.enumeration(7, "triggered_by"),
            parentRun: try reader.optional(8, "parent_run"),
            status: try reader.enumeration(9, "status"),
            startedAt: try reader.date(10, "started_at"),
            finishedAt: try reader.optionalDate(11, "finished_at"),
            version: try reader.value(12, "version"),
            host: try reader.value(13, "host"),
            pid: try reader.value(14, "pid"),
            pidStartTime: try reader.value(15, "pid_start_time"),
            prunedAt: try reader.optionalDate(17, "pruned_at"),
            name: try reader.optional(18, "name"),
            note: try reader.optional(19, "note"))
    }
}
