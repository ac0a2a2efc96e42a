import Foundation
import PostgresNIO
import RunStore

/// Stages and their outputs.
extension PostgresRunStore {
    /// Records the stage and, when `outputs` is given, replaces its outputs, atomically.
    ///
    /// A run this store created (``unkeyedRuns``) takes one statement, a round trip: the
    /// stage's upsert, the outputs' upserts and the delete of the outputs no longer given,
    /// as data-modifying `WITH` parts of one `DELETE`. A keyed run, which tasks on other
    /// machines share, takes a transaction that locks its row and settles its status.
    public func updateStage(_ stage: StageRecord, outputs: [OutputRecord]?) async throws(RunStoreError) {
        let operation = "record stage '\(stage.name)' of run #\(stage.runID)"
        for output in outputs ?? [] where output.runID != stage.runID || output.stage != stage.name {
            throw RunStoreError(code: .invalidRecord, operation: operation, path: location.redacted,
                                reason: "output '\(output.name)' belongs to stage '\(output.stage)' of run #\(output.runID)",
                                remedy: "give a stage only its own outputs")
        }
        if let outputs, Set(outputs.map(\.name)).count != outputs.count {
            throw RunStoreError(code: .invalidRecord, operation: operation, path: location.redacted,
                                reason: "two outputs have the same name", remedy: "give each output of a stage once")
        }
        if unkeyedRuns.withLock({ $0.contains(stage.runID) }) {
            do {
                try await access(operation) { try await execute(Self.stageStatement(stage, outputs: outputs), on: $0) }
            } catch where error.sqlState == "23503" {
                throw notFound(run: stage.runID, operation: operation)
            }
            return
        }
        do {
            try await access(operation, transaction: true) { connection in
                let keyed = try await lockKeyedRun(stage.runID, on: connection)
                try await execute(
                    PostgresQuery(unsafeSQL: PostgresRecords.upsertStageSQL, binds: PostgresRecords.bindings(stage)), on: connection)
                if keyed { try await settleKeyedRun(stage.runID, on: connection) }
                guard let outputs else { return }
                try await execute("DELETE FROM output WHERE run_id = \(stage.runID) AND stage = \(stage.name)", on: connection)
                for output in outputs {
                    try await execute("""
                        INSERT INTO output (\(unescaped: OutputRecord.columns)) VALUES (\(output.runID), \(output.stage), \
                        \(output.name), \(output.digest), \(output.kind), \(output.size), \(output.path))
                        """, on: connection)
                }
            }
        } catch where error.sqlState == "23503" {
            throw notFound(run: stage.runID, operation: operation)
        } catch where error.sqlState == "23505" {
            throw RunStoreError(code: .invalidRecord, operation: operation, path: location.redacted,
                                reason: "two outputs have the same name", remedy: "give each output of a stage once",
                                cause: error.cause)
        }
    }

    /// The one statement of ``updateStage(_:outputs:)`` for an unkeyed run.
    static func stageStatement(_ stage: StageRecord, outputs: [OutputRecord]?) -> PostgresQuery {
        var binds = PostgresRecords.bindings(stage)
        var sql = "WITH stage_row AS (\(PostgresRecords.upsertStageSQL) RETURNING run_id)"
        guard let outputs else { return PostgresQuery(unsafeSQL: sql + " SELECT run_id FROM stage_row", binds: binds) }
        var next = 20
        if !outputs.isEmpty {
            let rows = outputs.map { output -> String in
                binds.append(output.runID)
                binds.append(output.stage)
                binds.append(output.name)
                binds.append(output.digest)
                binds.append(output.kind)
                binds.append(output.size)
                binds.append(output.path)
                defer { next += 7 }
                return "(" + PostgresRecords.placeholders(7, from: next) + ")"
            }
            sql += """
                , output_rows AS (
                    INSERT INTO output (\(OutputRecord.columns)) VALUES \(rows.joined(separator: ", "))
                    ON CONFLICT (run_id, stage, name) DO UPDATE SET
                        digest = excluded.digest, kind = excluded.kind, size = excluded.size, path = excluded.path
                )
                """
        }
        binds.append(stage.runID)
        binds.append(stage.name)
        binds.append(outputs.map(\.name))
        sql += " DELETE FROM output WHERE run_id = $\(next) AND stage = $\(next + 1) AND NOT (name = ANY($\(next + 2)))"
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// The run's rows through the `(run_id, name)` primary key.
    public func stages(runID: Int64) async throws(RunStoreError) -> [StageRecord] {
        let query = PostgresQuery(unsafeSQL: "SELECT \(StageRecord.columns) FROM stage WHERE run_id = $1 ORDER BY position, name",
                                  binds: binds(runID))
        let found = try await access("read the stages of run #\(runID)") { try await rows(query, on: $0) }
        return try found.map { row throws(RunStoreError) in try PostgresRecords.stage(row) }
    }

    /// The run's outputs, in stage order, then by output name.
    public func outputs(runID: Int64) async throws(RunStoreError) -> [OutputRecord] {
        let columns = OutputRecord.columns.split(separator: ", ").map { "output.\($0)" }.joined(separator: ", ")
        let query = PostgresQuery(unsafeSQL: """
            SELECT \(columns) FROM output
            JOIN stage ON stage.run_id = output.run_id AND stage.name = output.stage
            WHERE output.run_id = $1
            ORDER BY stage.position, output.stage, output.name
            """, binds: binds(runID))
        let found = try await access("read the outputs of run #\(runID)") { try await rows(query, on: $0) }
        return try found.map { row throws(RunStoreError) in try PostgresRecords.output(row) }
    }

    /// Walks `stage_on_name_run_id` newest first and stops at the first match.
    public func lastAttempt(pipeline: String, stage: String, excludingRun: Int64?) async throws(RunStoreError) -> StageRecord? {
        try await lastStage(pipeline: pipeline, stage: stage, excludingRun: excludingRun,
                            condition: "stage.status IN ('succeeded', 'cached', 'failed', 'cancelled')",
                            operation: "find the last attempt of stage '\(stage)' of pipeline '\(pipeline)'")
    }

    /// As ``lastAttempt(pipeline:stage:excludingRun:)``, for results that have key components.
    public func lastResult(pipeline: String, stage: String, excludingRun: Int64?) async throws(RunStoreError) -> StageRecord? {
        try await lastStage(pipeline: pipeline, stage: stage, excludingRun: excludingRun,
                            condition: "stage.status IN ('succeeded', 'cached') AND stage.key_components_json IS NOT NULL",
                            operation: "find the last result of stage '\(stage)' of pipeline '\(pipeline)'")
    }

    /// The newest record of `stage` in `pipeline` that meets `condition`, outside `excludingRun`.
    private func lastStage(pipeline: String, stage: String, excludingRun: Int64?, condition: String,
                           operation: String) async throws(RunStoreError) -> StageRecord? {
        let columns = StageRecord.columns.split(separator: ", ").map { "stage.\($0)" }.joined(separator: ", ")
        var b = PostgresBindings(capacity: 3)
        b.append(stage)
        b.append(pipeline)
        b.append(excludingRun ?? -1)  // -1 never names a run
        let query = PostgresQuery(unsafeSQL: """
            SELECT \(columns) FROM stage
            JOIN run ON run.id = stage.run_id
            WHERE stage.name = $1 AND run.pipeline = $2 AND stage.run_id <> $3 AND \(condition)
            ORDER BY stage.run_id DESC
            LIMIT 1
            """, binds: b)
        let found = try await access(operation) { try await rows(query, on: $0) }
        return try found.first.map { row throws(RunStoreError) in try PostgresRecords.stage(row) }
    }
}
