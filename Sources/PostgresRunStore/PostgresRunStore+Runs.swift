import Foundation
import PostgresNIO
import RunStore

/// Runs: creating, finishing, reading and listing them.
extension PostgresRunStore {
    /// One transaction: the `run` row (its id from the sequence, its lease from the
    /// server's clock), its name and note, then a `stage` row per stage. A `running` run
    /// starts its heartbeat here; ``finishRun(id:status:finishedAt:)`` stops it.
    public func createRun(_ run: RunRecord, stages: [StageRecord]) async throws(RunStoreError) -> Int64 {
        let operation = "record a run of pipeline '\(run.pipeline)'"
        try stages.checkDistinctNames(operation: operation, path: location.redacted)
        let id: Int64
        do {
            id = try await access(operation, transaction: true) { connection in
                try await insert(run, stages: stages, lease: true, on: connection, operation: operation)
            }
        } catch where error.sqlState == "23503" {
            throw RunStoreError(code: .notFound, operation: operation, path: location.redacted,
                                reason: "its parent run #\(run.parentRun ?? 0) does not exist",
                                remedy: "re-run a run that `mlpipe runs` lists", cause: error.cause)
        }
        unkeyedRuns.withLock { _ = $0.insert(id) }
        if run.status == .running { startHeartbeat(runID: id) }
        return id
    }

    /// Inserts the `run` row (with a lease from the server's clock when `lease` and the run
    /// is `running`), its name and note, and a `stage` row per stage; returns the id.
    func insert(_ run: RunRecord, stages: [StageRecord], lease: Bool, on connection: PostgresConnection,
                operation: String) async throws -> Int64 {
        var b = PostgresBindings(capacity: 18)
        b.append(run.pipeline)
        b.append(run.pipelineFile)
        b.append(run.pipelineDigest)
        b.append(run.commit)
        b.append(run.branch)
        b.append(Int64(run.dirty ? 1 : 0))
        b.append(run.trigger.rawValue)
        b.append(run.parentRun)
        b.append(run.status.rawValue)
        b.append(run.startedAt.timeIntervalSince1970)
        b.append(run.finishedAt?.timeIntervalSince1970)
        b.append(run.version)
        b.append(run.host)
        b.append(Int64(run.pid))
        b.append(run.pidStartTime)
        b.append(run.paramsJSON)
        b.append(run.pipelineSource)
        b.append(lease ? leaseDuration.seconds : nil)
        let insert = PostgresQuery(unsafeSQL: """
            INSERT INTO run (pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, \
            triggered_by, parent_run, status, started_at, finished_at, version, host, pid, pid_start_time, \
            params_json, pipeline_source, lease_until) VALUES (\(PostgresRecords.placeholders(17)), \
            CASE WHEN $9 = 'running' THEN \(Self.serverNow) + $18 END) RETURNING id
            """, binds: b)
        guard let row = try await rows(insert, on: connection).first else {
            throw RunStoreError(code: .other, operation: operation, path: location.redacted,
                                reason: "the server returned no id", remedy: "this is a bug in mlpipe; please report it")
        }
        let id = try row.decode(Int64.self)
        if run.name != nil || run.note != nil {
            try await execute("INSERT INTO run_note (run_id, name, note) VALUES (\(id), \(run.name), \(run.note))", on: connection)
        }
        // Many rows a statement: a round trip per 500 stages, not per stage (19 values
        // each stay under the protocol's 65,535 parameters).
        var start = stages.startIndex
        while start < stages.endIndex {
            let end = min(start + 500, stages.endIndex)
            var b = PostgresBindings(capacity: 19 * (end - start))
            var rows: [String] = []
            for var stage in stages[start..<end] {
                stage.runID = id
                rows.append("(" + PostgresRecords.placeholders(19, from: 19 * rows.count + 1) + ")")
                PostgresRecords.append(stage, to: &b)
            }
            try await execute(PostgresQuery(unsafeSQL: "INSERT INTO stage (\(StageRecord.columns)) VALUES "
                                                + rows.joined(separator: ", "), binds: b), on: connection)
            start = end
        }
        return id
    }

    /// One UPDATE by primary key; stops the run's heartbeat.
    public func finishRun(id: Int64, status: RunStatus, finishedAt: Date) async throws(RunStoreError) {
        let operation = "record the end of run #\(id)"
        if status.isFinished { stopHeartbeat(runID: id) }
        let changed = try await access(operation) { connection in
            try await rows("""
                UPDATE run SET status = \(status.rawValue), finished_at = \(finishedAt.timeIntervalSince1970)
                WHERE id = \(id) RETURNING id
                """, on: connection).count
        }
        if changed == 0 { throw notFound(run: id, operation: operation) }
    }

    /// One read by primary key, with every column.
    public func run(id: Int64) async throws(RunStoreError) -> RunRecord? {
        let query = PostgresQuery(unsafeSQL: "SELECT \(RunRecord.columns) FROM \(RunRecord.source) WHERE id = $1", binds: binds(id))
        let found = try await access("read run #\(id)") { try await rows(query, on: $0) }
        return try found.first.map { row throws(RunStoreError) in try PostgresRecords.run(row) }
    }

    /// The end of the `run_on_pipeline` index, or of the primary key.
    public func latestRunID(pipeline: String?) async throws(RunStoreError) -> Int64? {
        try await access("find the latest run") { connection in
            let query: PostgresQuery = if let pipeline {
                "SELECT id FROM run WHERE pipeline = \(pipeline) ORDER BY id DESC LIMIT 1"
            } else {
                "SELECT id FROM run ORDER BY id DESC LIMIT 1"
            }
            return try await rows(query, on: connection).first?.decode(Int64.self)
        }
    }

    /// One statement per filter shape, each served by an index that ends with `id`.
    public func runs(_ filter: RunFilter) async throws(RunStoreError) -> [RunRecord] {
        var conditions: [String] = []
        var b = PostgresBindings()
        if let pipeline = filter.pipeline {
            b.append(pipeline)
            conditions.append("pipeline = $\(b.count)")
        }
        if let status = filter.status {
            b.append(status.rawValue)
            conditions.append("status = $\(b.count)")
        }
        if let name = filter.name {
            // ILIKE: SQLite's LIKE ignores ASCII case, and so must this.
            b.append(RunFilter.likePattern(containing: name))
            conditions.append("run_note.name ILIKE $\(b.count) ESCAPE '\\'")
        }
        var sql = "SELECT \(RunRecord.listColumns) FROM \(RunRecord.source)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY id DESC"
        if filter.limit > 0 {
            b.append(Int64(filter.limit))
            sql += " LIMIT $\(b.count)"
        }
        let query = PostgresQuery(unsafeSQL: sql, binds: b)
        let found = try await access("list runs") { try await rows(query, on: $0) }
        return try found.map { row throws(RunStoreError) in try PostgresRecords.run(row) }
    }

    /// `SELECT DISTINCT` over `run_on_pipeline`.
    public func pipelineNames() async throws(RunStoreError) -> [String] {
        let found = try await access("list pipelines") { try await rows("SELECT DISTINCT pipeline FROM run ORDER BY pipeline", on: $0) }
        do {
            return try found.map { try $0.decode(String.self) }
        } catch {
            throw wrap(error, operation: "list pipelines")
        }
    }

    /// `COUNT(*)`.
    public func runCount() async throws(RunStoreError) -> Int {
        try await access("count runs") { connection in
            Int(try await rows("SELECT COUNT(*) FROM run", on: connection).first?.decode(Int64.self) ?? 0)
        }
    }

    /// Bindings of one value.
    func binds(_ value: Int64) -> PostgresBindings {
        var b = PostgresBindings(capacity: 1)
        b.append(value)
        return b
    }

    /// The error for a run that does not exist.
    func notFound(run id: Int64, operation: String) -> RunStoreError {
        RunStoreError(code: .notFound, operation: operation, path: location.redacted,
                      reason: "there is no run #\(id)", remedy: "`mlpipe runs` lists the runs that exist")
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
