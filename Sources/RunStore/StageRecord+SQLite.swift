import Foundation
internal import GRDB

/// How a ``StageRecord`` maps to a row of the `stage` table.
extension StageRecord {
    /// Every column, in ``init(row:)`` order.
    package static let columns = """
        run_id, name, kind, position, status, cache_key, cached_from, attempts, exit_code, \
        started_at, finished_at, log_path, reason, error, metrics_json, key_components_json, \
        results_json, warnings_json, host
        """

    /// Inserts the stage, or replaces every column of the one with the same
    /// (`run_id`, `name`). An upsert rather than `INSERT OR REPLACE`, which
    /// would delete the row first and with it (by cascade) the stage's outputs.
    static let upsertSQL = """
        INSERT INTO stage (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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

    /// The arguments of ``upsertSQL``.
    var upsertArguments: StatementArguments {
        arguments([
            runID, name, kind, position, status.rawValue, cacheKey, cachedFrom, attempts, exitCode,
            startedAt?.timeIntervalSince1970, finishedAt?.timeIntervalSince1970, logPath, reason, error,
            metricsJSON, keyComponentsJSON, resultsJSON, warningsJSON, host,
        ])
    }

    /// How errors name this stage.
    var label: String { "stage '\(name)' of run #\(runID)" }

    /// A record from a row of ``columns``.
    init(row: Row) throws(RunStoreError) {
        let runID = Int64.fromDatabaseValue(row[0] as DatabaseValue) ?? 0
        let name = String.fromDatabaseValue(row[1] as DatabaseValue) ?? "?"
        let reader = RowReader(row: row, table: "stage", key: "stage '\(name)' of run #\(runID)")
        self.init(
            runID: try reader.value(0, "run_id"),
            name: try reader.value(1, "name"),
            kind: try reader.value(2, "kind"),
            position: try reader.value(3, "position"),
            status: try reader.enumeration(4, "status"),
            cacheKey: try reader.optional(5, "cache_key"),
            cachedFrom: try reader.optional(6, "cached_from"),
            attempts: try reader.value(7, "attempts"),
            exitCode: try reader.optional(8, "exit_code"),
            error: try reader.optional(13, "error"),
            reason: try reader.optional(12, "reason"),
            keyComponentsJSON: try reader.optional(15, "key_components_json"),
            metricsJSON: try reader.optional(14, "metrics_json"),
            resultsJSON: try reader.optional(16, "results_json"),
            warningsJSON: try reader.optional(17, "warnings_json"),
            startedAt: try reader.optionalDate(9, "started_at"),
            finishedAt: try reader.optionalDate(10, "finished_at"),
            logPath: try reader.optional(11, "log_path"),
            host: try reader.optional(18, "host"))
    }
}
