import Foundation
internal import GRDB

/// Stages and their outputs.
extension SQLiteRunStore {
    /// One immediate transaction: an upsert of the stage (never a delete, which
    /// would cascade to its outputs), then, when `outputs` is given, a delete and
    /// an insert per output. Every statement is prepared once per store.
    public func updateStage(_ stage: StageRecord, outputs: [OutputRecord]?) throws(RunStoreError) {
        let operation = "record \(stage.label)"
        for output in outputs ?? [] where output.runID != stage.runID || output.stage != stage.name {
            throw RunStoreError(
                code: .invalidRecord, operation: operation, path: path,
                reason: "output '\(output.name)' belongs to stage '\(output.stage)' of run #\(output.runID)",
                remedy: "give a stage only its own outputs")
        }
        do {
            try write(operation) { db in
                try db.cachedStatement(sql: StageRecord.upsertSQL).execute(arguments: stage.upsertArguments)
                try Self.settleKeyedRun(stage.runID, in: db)
                guard let outputs else { return }
                try db.cachedStatement(sql: "DELETE FROM output WHERE run_id = ? AND stage = ?")
                    .execute(arguments: [stage.runID, stage.name])
                let insert = try db.cachedStatement(sql: OutputRecord.insertSQL)
                for output in outputs {
                    try insert.execute(arguments: output.insertArguments)
                }
            }
        } catch where error.isForeignKeyViolation {
            throw notFound(run: stage.runID, operation: operation)
        } catch where (error.cause as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw RunStoreError(
                code: .invalidRecord, operation: operation, path: path,
                reason: "two outputs have the same name", remedy: "give each output of a stage once",
                cause: error.cause)
        }
    }

    /// Reads the run's rows through the `(run_id, name)` primary key.
    public func stages(runID: Int64) throws(RunStoreError) -> [StageRecord] {
        try read("read the stages of run #\(runID)") { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(StageRecord.columns) FROM stage WHERE run_id = ? ORDER BY position, name"),
                arguments: [runID]
            ).map { row throws(RunStoreError) in try StageRecord(row: row) }
        }
    }

    /// Reads the run's rows, which the WITHOUT ROWID table keeps together.
    public func outputs(runID: Int64) throws(RunStoreError) -> [OutputRecord] {
        let columns = OutputRecord.columns.split(separator: ", ").map { "output.\($0)" }.joined(separator: ", ")
        return try read("read the outputs of run #\(runID)") { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT \(columns) FROM output
                    JOIN stage ON stage.run_id = output.run_id AND stage.name = output.stage
                    WHERE output.run_id = ?
                    ORDER BY stage.position, output.stage, output.name
                    """),
                arguments: [runID]
            ).map { row throws(RunStoreError) in try OutputRecord(row: row) }
        }
    }

    /// Walks `stage_on_name_run_id` newest first and stops at the first match.
    public func lastAttempt(pipeline: String, stage: String, excludingRun: Int64?) throws(RunStoreError) -> StageRecord? {
        let columns = StageRecord.columns.split(separator: ", ").map { "stage.\($0)" }.joined(separator: ", ")
        return try read("find the last attempt of stage '\(stage)' of pipeline '\(pipeline)'") { db in
            try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT \(columns) FROM stage
                    JOIN run ON run.id = stage.run_id
                    WHERE stage.name = ? AND run.pipeline = ? AND stage.run_id <> ?
                      AND stage.status IN ('succeeded', 'cached', 'failed', 'cancelled')
                    ORDER BY stage.run_id DESC
                    LIMIT 1
                    """),
                arguments: [stage, pipeline, excludingRun ?? -1]
            ).map { row throws(RunStoreError) in try StageRecord(row: row) }
        }
    }

    public func lastResult(pipeline: String, stage: String, excludingRun: Int64?) throws(RunStoreError) -> StageRecord? {
        let columns = StageRecord.columns.split(separator: ", ").map { "stage.\($0)" }.joined(separator: ", ")
        return try read("find the last result of stage '\(stage)' of pipeline '\(pipeline)'") { db in
            // Walks the (name, run_id) index newest first and stops at the first
            // row that matches; -1 never names a run.
            try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT \(columns) FROM stage
                    JOIN run ON run.id = stage.run_id
                    WHERE stage.name = ? AND run.pipeline = ? AND stage.run_id <> ?
                      AND stage.status IN ('succeeded', 'cached') AND stage.key_components_json IS NOT NULL
                    ORDER BY stage.run_id DESC
                    LIMIT 1
                    """),
                arguments: [stage, pipeline, excludingRun ?? -1]
            ).map { row throws(RunStoreError) in try StageRecord(row: row) }
        }
    }
}
