import Foundation
import PostgresNIO
import RunStore

/// How the record types map to rows of the PostgreSQL twin tables: the same columns, in
/// the same order, as the SQLite store reads (`RunRecord.listColumns` and the like), with
/// `$n` placeholders.
enum PostgresRecords {
    /// `$1, $2, …, $count`.
    static func placeholders(_ count: Int, from first: Int = 1) -> String {
        (first..<first + count).map { "$\($0)" }.joined(separator: ", ")
    }

    /// A run from a row of `RunRecord.columns` or `RunRecord.listColumns` (then with an
    /// empty `pipelineSource`).
    static func run(_ row: PostgresRow) throws(RunStoreError) -> RunRecord {
        let id = try? row.makeRandomAccess()[0].decode(Int64.self)
        let r = PostgresRowReader(row, table: "run", key: id.map { "run #\($0)" } ?? "a run")
        return RunRecord(
            id: try r.value(0, "id", as: Int64.self),
            pipeline: try r.value(1, "pipeline"),
            pipelineFile: try r.value(2, "pipeline_file"),
            pipelineSource: r.row.count > 20 ? try r.value(20, "pipeline_source") : "",
            pipelineDigest: try r.value(3, "pipeline_digest"),
            paramsJSON: try r.value(16, "params_json"),
            commit: try r.value(4, "git_commit"),
            branch: try r.optional(5, "git_branch"),
            dirty: try r.flag(6, "git_dirty"),
            trigger: try r.enumeration(7, "triggered_by"),
            parentRun: try r.optional(8, "parent_run", as: Int64.self),
            status: try r.enumeration(9, "status"),
            startedAt: try r.date(10, "started_at"),
            finishedAt: try r.optionalDate(11, "finished_at"),
            version: try r.value(12, "version"),
            host: try r.value(13, "host"),
            pid: try r.int32(14, "pid"),
            pidStartTime: try r.value(15, "pid_start_time", as: Int64.self),
            prunedAt: try r.optionalDate(17, "pruned_at"),
            name: try r.optional(18, "name"),
            note: try r.optional(19, "note"))
    }

    /// A stage from a row of `StageRecord.columns`.
    static func stage(_ row: PostgresRow) throws(RunStoreError) -> StageRecord {
        let cells = row.makeRandomAccess()
        let runID = (try? cells[0].decode(Int64.self)) ?? 0
        let name = (try? cells[1].decode(String.self)) ?? "?"
        let r = PostgresRowReader(row, table: "stage", key: "stage '\(name)' of run #\(runID)")
        return StageRecord(
            runID: try r.value(0, "run_id", as: Int64.self),
            name: try r.value(1, "name"),
            kind: try r.value(2, "kind"),
            position: try r.int(3, "position"),
            status: try r.enumeration(4, "status"),
            cacheKey: try r.optional(5, "cache_key"),
            cachedFrom: try r.optional(6, "cached_from", as: Int64.self),
            attempts: try r.int(7, "attempts"),
            exitCode: try r.optionalInt32(8, "exit_code"),
            error: try r.optional(13, "error"),
            reason: try r.optional(12, "reason"),
            keyComponentsJSON: try r.optional(15, "key_components_json"),
            metricsJSON: try r.optional(14, "metrics_json"),
            resultsJSON: try r.optional(16, "results_json"),
            warningsJSON: try r.optional(17, "warnings_json"),
            startedAt: try r.optionalDate(9, "started_at"),
            finishedAt: try r.optionalDate(10, "finished_at"),
            logPath: try r.optional(11, "log_path"),
            host: try r.optional(18, "host"))
    }

    /// An output from a row of `OutputRecord.columns`.
    static func output(_ row: PostgresRow) throws(RunStoreError) -> OutputRecord {
        let cells = row.makeRandomAccess()
        let runID = (try? cells[0].decode(Int64.self)) ?? 0
        let stage = (try? cells[1].decode(String.self)) ?? "?"
        let name = (try? cells[2].decode(String.self)) ?? "?"
        let r = PostgresRowReader(row, table: "output", key: "output '\(name)' of stage '\(stage)' of run #\(runID)")
        return OutputRecord(
            runID: try r.value(0, "run_id", as: Int64.self), stage: try r.value(1, "stage"), name: try r.value(2, "name"),
            digest: try r.value(3, "digest"), kind: try r.value(4, "kind"), size: try r.value(5, "size", as: Int64.self),
            path: try r.value(6, "path"))
    }

    /// A cache entry from a row of `CacheEntry.columns`.
    static func cacheEntry(_ row: PostgresRow) throws(RunStoreError) -> CacheEntry {
        let key = (try? row.makeRandomAccess()[0].decode(String.self)) ?? "?"
        let r = PostgresRowReader(row, table: "cache_entry", key: "cache entry \(key)")
        return CacheEntry(
            key: try r.value(0, "key"), pipeline: try r.value(1, "pipeline"), stage: try r.value(2, "stage"),
            runID: try r.value(3, "run_id", as: Int64.self), outputsJSON: try r.value(7, "outputs_json"),
            metricsJSON: try r.optional(6, "metrics_json"), resultsJSON: try r.optional(8, "results_json"),
            createdAt: try r.date(4, "created_at"), lastUsedAt: try r.date(5, "last_used_at"))
    }

    /// The bound values of an upsert of `stage`, in `StageRecord.columns` order.
    static func bindings(_ stage: StageRecord) -> PostgresBindings {
        var b = PostgresBindings(capacity: 19)
        append(stage, to: &b)
        return b
    }

    /// Appends the 19 values of `stage`, in `StageRecord.columns` order, to `b`.
    static func append(_ stage: StageRecord, to b: inout PostgresBindings) {
        b.append(stage.runID)
        b.append(stage.name)
        b.append(stage.kind)
        b.append(Int64(stage.position))
        b.append(stage.status.rawValue)
        b.append(stage.cacheKey)
        b.append(stage.cachedFrom)
        b.append(Int64(stage.attempts))
        b.append(stage.exitCode.map { Int64($0) })
        b.append(stage.startedAt?.timeIntervalSince1970)
        b.append(stage.finishedAt?.timeIntervalSince1970)
        b.append(stage.logPath)
        b.append(stage.reason)
        b.append(stage.error)
        b.append(stage.metricsJSON)
        b.append(stage.keyComponentsJSON)
        b.append(stage.resultsJSON)
        b.append(stage.warningsJSON)
        b.append(stage.host)
    }

    /// Inserts a stage or replaces every column of the one with the same key; an upsert,
    /// never a delete, which would cascade to the stage's outputs.
    static let upsertStageSQL = """
        INSERT INTO stage (\(StageRecord.columns)) VALUES (\(placeholders(19)))
        ON CONFLICT (run_id, name) DO UPDATE SET
            kind = excluded.kind, position = excluded.position, status = excluded.status,
            cache_key = excluded.cache_key, cached_from = excluded.cached_from,
            attempts = excluded.attempts, exit_code = excluded.exit_code,
            started_at = excluded.started_at, finished_at = excluded.finished_at,
            log_path = excluded.log_path, reason = excluded.reason, error = excluded.error,
            metrics_json = excluded.metrics_json, key_components_json = excluded.key_components_json,
            results_json = excluded.results_json, warnings_json = excluded.warnings_json,
            host = excluded.host
        """
}
