import Foundation
internal import GRDB

/// Runs: creating, finishing, reading and listing them.
extension SQLiteRunStore {
    /// One immediate transaction: the `run` row, then a `stage` row per stage.
    /// Throws ``RunStoreError/Code/invalidRecord`` for a stage given twice, and
    /// ``RunStoreError/Code/notFound`` for a `parentRun` that does not exist.
    public func createRun(_ run: RunRecord, stages: [StageRecord]) throws(RunStoreError) -> Int64 {
        try stages.checkDistinctNames(operation: "record a run of pipeline '\(run.pipeline)'", path: path)
        do {
            return try write("record a run of pipeline '\(run.pipeline)'") { db in
                try Self.insert(run, stages: stages, into: db)
            }
        } catch where error.isForeignKeyViolation {
            throw RunStoreError(
                code: .notFound, operation: error.operation, path: path,
                reason: "its parent run #\(run.parentRun ?? 0) does not exist",
                remedy: "re-run a run that `mlpipe runs` lists", cause: error.cause)
        }
    }

    /// Inserts the `run` row, its name and note, and a `stage` row per stage; returns the id.
    static func insert(_ run: RunRecord, stages: [StageRecord], into db: Database) throws -> Int64 {
        try db.cachedStatement(sql: RunRecord.insertSQL).execute(arguments: run.insertArguments)
        let id = db.lastInsertedRowID
        if run.name != nil || run.note != nil {
            try db.cachedStatement(sql: "INSERT INTO run_note (run_id, name, note) VALUES (?, ?, ?)")
                .execute(arguments: [id, run.name, run.note])
        }
        let insertStage = try db.cachedStatement(sql: StageRecord.upsertSQL)
        for var stage in stages {
            stage.runID = id
            try insertStage.execute(arguments: stage.upsertArguments)
        }
        return id
    }

    /// One UPDATE by primary key.
    public func finishRun(id: Int64, status: RunStatus, finishedAt: Date) throws(RunStoreError) {
        let operation = "record the end of run #\(id)"
        let changed = try write(operation) { db in
            try db.cachedStatement(sql: "UPDATE run SET status = ?, finished_at = ? WHERE id = ?")
                .execute(arguments: [status.rawValue, finishedAt.timeIntervalSince1970, id])
            return db.changesCount
        }
        if changed == 0 {
            throw notFound(run: id, operation: operation)
        }
    }

    /// One read by primary key, with every column.
    public func run(id: Int64) throws(RunStoreError) -> RunRecord? {
        try read("read run #\(id)") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(RunRecord.columns) FROM \(RunRecord.source) WHERE id = ?"), arguments: [id])
                .map { row throws(RunStoreError) in try RunRecord(row: row) }
        }
    }

    /// The end of the `run_on_pipeline` index, or the largest rowid.
    public func latestRunID(pipeline: String?) throws(RunStoreError) -> Int64? {
        try read("find the latest run") { db in
            if let pipeline {
                return try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT id FROM run WHERE pipeline = ? ORDER BY id DESC LIMIT 1"),
                    arguments: [pipeline])
            }
            return try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(id) FROM run"))
        }
    }

    /// One of four statements, one per filter shape; see ``Schema``.
    public func runs(_ filter: RunFilter) throws(RunStoreError) -> [RunRecord] {
        var conditions = RunConditions(pipeline: filter.pipeline, status: filter.status)
        if let name = filter.name {
            conditions.add("run_note.name LIKE ? ESCAPE '\\'", RunFilter.likePattern(containing: name))
        }
        // Four statements in all, one per filter shape, each served by an index
        // that yields rows already in `id DESC` order (see Schema).
        return try listRuns(conditions, limit: filter.limit > 0 ? filter.limit : -1, action: "list runs")
    }

    /// The runs that meet `conditions`, newest first: the one list statement of `runs`
    /// and of `mlpipe serve`'s pages (names and notes through their join).
    func listRuns(_ conditions: RunConditions, limit: Int, action: String) throws(RunStoreError) -> [RunRecord] {
        let whereClause = conditions.clauses.isEmpty ? "" : " WHERE " + conditions.clauses.joined(separator: " AND ")
        let sql = "SELECT \(RunRecord.listColumns) FROM \(RunRecord.source)\(whereClause) ORDER BY id DESC LIMIT ?"
        return try read(action) { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments(conditions.values + [limit]))
                .map { row throws(RunStoreError) in try RunRecord(row: row) }
        }
    }

    /// `COUNT(*)`, which SQLite answers from the smallest index.
    /// Through the index `run_on_pipeline`: one step per distinct name.
    public func pipelineNames() throws(RunStoreError) -> [String] {
        try read("list pipelines") { db in
            try String.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT pipeline FROM run ORDER BY pipeline"))
        }
    }

    public func runCount() throws(RunStoreError) -> Int {
        try read("count runs") { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM run")) ?? 0
        }
    }

    /// One read of the `running` runs of `host` (through `run_on_status`), the
    /// liveness checks outside any transaction, then one write that marks only
    /// the runs still `running`, so a run that finished meanwhile is left alone.
    public func markInterruptedRuns(host: String, isAlive: (Int32, Int64) -> Bool) throws(RunStoreError) -> [Int64] {
        let running = try read("find running runs") { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT id, pid, pid_start_time FROM run
                    WHERE status = 'running' AND host = ? AND id NOT IN (SELECT run_id FROM run_key)
                    """),
                arguments: [host]
            ).map { row throws(RunStoreError) in
                let reader = RowReader(row: row, table: "run", key: "a running run")
                return (id: try reader.value(0, "id", as: Int64.self),
                        pid: try reader.value(1, "pid", as: Int32.self),
                        startTime: try reader.value(2, "pid_start_time", as: Int64.self))
            }
        }
        // The liveness check reads /proc and must not hold the write lock.
        let dead = running.filter { !isAlive($0.pid, $0.startTime) }.map(\.id).sorted()
        if dead.isEmpty {
            return []
        }
        return try write("mark runs \(dead.map { "#\($0)" }.joined(separator: ", ")) interrupted") { db in
            // The end time is the last sign of life the run left.
            let markRun = try db.cachedStatement(sql: """
                UPDATE run SET status = 'interrupted',
                    finished_at = MAX(started_at, IFNULL((
                        SELECT MAX(MAX(IFNULL(started_at, 0), IFNULL(finished_at, 0))) FROM stage WHERE run_id = ?
                    ), 0))
                WHERE id = ? AND status = 'running'
                """)
            let cancelStages = try db.cachedStatement(sql: """
                UPDATE stage SET status = 'cancelled', error = 'run interrupted'
                WHERE run_id = ? AND status IN ('running', 'pending')
                """)
            var marked: [Int64] = []
            for id in dead {
                try markRun.execute(arguments: [id, id])
                // Another process may have marked it, or it finished meanwhile.
                guard db.changesCount > 0 else { continue }
                try cancelStages.execute(arguments: [id])
                marked.append(id)
            }
            return marked
        }
    }

    /// The error for a run that does not exist.
    func notFound(run id: Int64, operation: String) -> RunStoreError {
        RunStoreError(
            code: .notFound, operation: operation, path: path,
            reason: "there is no run #\(id)", remedy: "`mlpipe runs` lists the runs that exist")
    }
}

/// The conditions of a list of runs, with their values in order.
struct RunConditions {
    var clauses: [String] = []
    var values: [(any DatabaseValueConvertible)?] = []

    /// The two filters every list has: pipeline and status.
    init(pipeline: String?, status: RunStatus?) {
        if let pipeline { add("pipeline = ?", pipeline) }
        if let status { add("status = ?", status.rawValue) }
    }

    mutating func add(_ clause: String, _ value: (any DatabaseValueConvertible)?) {
        clauses.append(clause)
        values.append(value)
    }
}
