import Foundation
internal import GRDB

/// How a ``CacheEntry`` maps to a row of the `cache_entry` table.
extension CacheEntry {
    /// Every column, in ``init(row:)`` order.
    package static let columns = "key, pipeline, stage, run_id, created_at, last_used_at, metrics_json, outputs_json, results_json"

    /// Inserts the entry or replaces the one with the same key (no other table
    /// refers to `cache_entry`, so a replace deletes nothing else).
    static let saveSQL = "INSERT OR REPLACE INTO cache_entry (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// The arguments of ``saveSQL``.
    var saveArguments: StatementArguments {
        arguments([
            key, pipeline, stage, runID, createdAt.timeIntervalSince1970, lastUsedAt.timeIntervalSince1970,
            metricsJSON, outputsJSON, resultsJSON,
        ])
    }

    /// A record from a row of ``columns``.
    init(row: Row) throws(RunStoreError) {
        let key = String.fromDatabaseValue(row[0] as DatabaseValue) ?? "?"
        let reader = RowReader(row: row, table: "cache_entry", key: "cache entry \(key)")
        self.init(
            key: try reader.value(0, "key"),
            pipeline: try reader.value(1, "pipeline"),
            stage: try reader.value(2, "stage"),
            runID: try reader.value(3, "run_id"),
            outputsJSON: try reader.value(7, "outputs_json"),
            metricsJSON: try reader.optional(6, "metrics_json"),
            resultsJSON: try reader.optional(8, "results_json"),
            createdAt: try reader.date(4, "created_at"),
            lastUsedAt: try reader.date(5, "last_used_at"))
    }
}
