import Foundation
internal import GRDB

/// Runs that several processes record: the tasks of one workflow, joined by a key.
extension SQLiteRunStore {
    /// One immediate transaction, which SQLite serialises with every other writer: the key
    /// is looked up, and the run is created with it only when it is not there, so two
    /// tasks that join at once find one run. A run that exists gets those of `stages` it
    /// lacks, `pending`; the others are left as the tasks that recorded them made them.
    public func joinRun(_ run: RunRecord, key: String, stages: [StageRecord]) throws(RunStoreError) -> Int64 {
        try stages.checkDistinctNames(operation: "record run '\(key)' of pipeline '\(run.pipeline)'", path: path)
        do {
            return try write("record run '\(key)' of pipeline '\(run.pipeline)'") { db in
                if let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT run_id FROM run_key WHERE key = ?"),
                                               arguments: [key]) {
                    let insertStage = try db.cachedStatement(sql: """
                        INSERT INTO stage (\(StageRecord.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (run_id, name) DO NOTHING
                        """)
                    for var stage in stages {
                        stage.runID = id
                        try insertStage.execute(arguments: stage.upsertArguments)
                    }
                    return id
                }
                let id = try Self.insert(run, stages: stages, into: db)
                try db.cachedStatement(sql: "INSERT INTO run_key (key, run_id) VALUES (?, ?)").execute(arguments: [key, id])
                return id
            }
        } catch where error.isForeignKeyViolation {
            throw RunStoreError(
                code: .notFound, operation: error.operation, path: path,
                reason: "its parent run #\(run.parentRun ?? 0) does not exist",
                remedy: "re-run a run that `mlpipe runs` lists", cause: error.cause)
        }
    }

    /// Gives a keyed run the status its stages add up to (``RunStatus/ofStages(_:)``), in
    /// the transaction that changed one of them; a run without a key is left to the
    /// process that runs it.
    static func settleKeyedRun(_ runID: Int64, in db: Database) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM run_key WHERE run_id = ?"), arguments: [runID]) != nil,
              let started = try Double.fetchOne(db.cachedStatement(sql: "SELECT started_at FROM run WHERE id = ?"),
                                                arguments: [runID])
        else { return }
        var statuses: [StageStatus] = []
        var ends: [Date?] = []
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT status, finished_at FROM stage WHERE run_id = ?"),
                                    arguments: [runID]) {
            let reader = RowReader(row: row, table: "stage", key: "a stage of run #\(runID)")
            statuses.append(try reader.enumeration(0, "status"))
            ends.append(try reader.optionalDate(1, "finished_at"))
        }
        let status = RunStatus.ofStages(statuses)
        let finishedAt = RunStatus.finishedAt(status, stageEnds: ends, startedAt: Date(timeIntervalSince1970: started))
        try db.cachedStatement(sql: "UPDATE run SET status = ?, finished_at = ? WHERE id = ?")
            .execute(arguments: [status.rawValue, finishedAt?.timeIntervalSince1970, runID])
    }
}
