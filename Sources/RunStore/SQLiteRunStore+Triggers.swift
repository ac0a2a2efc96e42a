import Foundation
internal import GRDB

/// The webhook trigger queue, in `trigger_queue` (see ``Schema/addTriggerQueue(_:)`` and
/// ``TriggerRecord``).
///
/// Every change of state is one immediate transaction, so two workers (two servers on one
/// workspace) never claim the same row: a claim reads and marks the row under the write
/// lock.
extension SQLiteRunStore {
    /// How many times a row may be claimed by a worker that then died before it is failed
    /// rather than queued again.
    public static let maximumTriggerAttempts = 3

    static let triggerColumns = """
        id, source, delivery_id, branch, git_commit, before_commit, pipeline, push_id, state, run_id, attempts, \
        created_at, started_at, finished_at, note, error
        """

    /// Queues a push. A delivery already queued (the same source and delivery id) is not
    /// queued again: the answer is the first copy's id, with `isNew` false.
    public func enqueuePush(_ push: TriggerRecord) throws(RunStoreError) -> (id: Int64, isNew: Bool) {
        try write("queue a \(push.source.rawValue) push to \(push.branch)") { db -> (Int64, Bool) in
            try db.cachedStatement(sql: """
                INSERT INTO trigger_queue (source, delivery_id, branch, git_commit, before_commit, state, created_at)
                VALUES (?, ?, ?, ?, ?, 'queued', ?)
                ON CONFLICT (source, delivery_id) WHERE pipeline IS NULL DO NOTHING
                """).execute(arguments: [push.source.rawValue, push.deliveryID, push.branch, push.commit, push.before,
                                         push.createdAt.timeIntervalSince1970])
            if db.changesCount > 0 { return (db.lastInsertedRowID, true) }
            let existing = try Int64.fetchOne(db.cachedStatement(sql: """
                SELECT id FROM trigger_queue WHERE source = ? AND delivery_id = ? AND pipeline IS NULL
                """), arguments: [push.source.rawValue, push.deliveryID])
            return (existing ?? 0, false)
        }
    }

    /// Claims the oldest queued push for this process, or nil when none waits.
    public func claimPush(at time: Date = Date()) throws(RunStoreError) -> TriggerRecord? {
        try claim("claim a queued push", time: time, sql: """
            SELECT id FROM trigger_queue WHERE state = 'queued' AND pipeline IS NULL ORDER BY id LIMIT 1
            """)
    }

    /// Claims the oldest queued pipeline row whose pipeline and branch have no row
    /// running, or nil: runs of one pipeline on one branch happen one at a time, in the
    /// order their pushes came.
    public func claimPipelineTrigger(at time: Date = Date()) throws(RunStoreError) -> TriggerRecord? {
        try claim("claim a queued pipeline run", time: time, sql: """
            SELECT q.id FROM trigger_queue AS q
            WHERE q.state = 'queued' AND q.pipeline IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM trigger_queue AS r
                WHERE r.state = 'running' AND r.pipeline = q.pipeline AND r.branch = q.branch)
            ORDER BY q.id LIMIT 1
            """)
    }

    /// Marks push `id` done and queues one pipeline row per name in `pipelines`, in one
    /// transaction; returns the new rows' ids.
    public func planPush(id: Int64, pipelines: [String], note: String, at time: Date = Date()) throws(RunStoreError) -> [Int64] {
        try write("queue the pipelines of push #\(id)") { db -> [Int64] in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO trigger_queue (source, delivery_id, branch, git_commit, before_commit, pipeline, push_id, state, created_at)
                SELECT source, delivery_id, branch, git_commit, before_commit, ?, id, 'queued', ? FROM trigger_queue WHERE id = ?
                """)
            var ids: [Int64] = []
            for pipeline in pipelines {
                try insert.execute(arguments: [pipeline, time.timeIntervalSince1970, id])
                if db.changesCount > 0 { ids.append(db.lastInsertedRowID) }
            }
            try db.cachedStatement(sql: """
                UPDATE trigger_queue SET state = 'done', finished_at = ?, note = ?, error = NULL WHERE id = ?
                """).execute(arguments: [time.timeIntervalSince1970, note, id])
            return ids
        }
    }

    /// Records the run that row `id` started.
    public func recordTriggerRun(id: Int64, runID: Int64) throws(RunStoreError) {
        try write("record run #\(runID) on trigger #\(id)") { db in
            try db.cachedStatement(sql: "UPDATE trigger_queue SET run_id = ? WHERE id = ?").execute(arguments: [runID, id])
        }
    }

    /// Ends row `id`: `done` or `failed`, with a note, the run it made (kept when nil) and,
    /// when failed, the reason.
    public func finishTrigger(id: Int64, state: TriggerRecord.State, runID: Int64? = nil, note: String?, error: String?,
                              at time: Date = Date()) throws(RunStoreError) {
        try write("record the end of trigger #\(id)") { db in
            try db.cachedStatement(sql: """
                UPDATE trigger_queue SET state = ?, run_id = IFNULL(?, run_id), finished_at = ?, note = ?, error = ? WHERE id = ?
                """).execute(arguments: [state.rawValue, runID, time.timeIntervalSince1970, note, error, id])
        }
    }

    /// Puts row `id`, claimed by this process, back in the queue without counting the
    /// claim: the server is stopping and the row should run when it is back.
    public func requeueTrigger(id: Int64, note: String?) throws(RunStoreError) {
        try write("queue trigger #\(id) again") { db in
            try db.cachedStatement(sql: """
                UPDATE trigger_queue SET state = 'queued', attempts = MAX(attempts - 1, 0), started_at = NULL,
                    run_id = NULL, worker_host = NULL, worker_pid = NULL, worker_start_time = NULL, note = ?
                WHERE id = ? AND state = 'running'
                """).execute(arguments: [note, id])
        }
    }

    /// Rows `running` on `host` whose worker is no longer alive: queued again, or failed
    /// once they were claimed ``maximumTriggerAttempts`` times. What `mlpipe serve` does
    /// on start, before it works on the queue.
    public func recoverTriggers(host: String = ProcessIdentity.hostName(),
                                isAlive: (Int32, Int64) -> Bool = ProcessIdentity.isAlive) throws(RunStoreError) -> TriggerRecovery {
        let running = try read("find running triggers") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, worker_pid, worker_start_time, attempts, run_id FROM trigger_queue
                WHERE state = 'running' AND worker_host = ?
                """), arguments: [host]).map { row throws(RunStoreError) in
                let reader = RowReader(row: row, table: "trigger_queue", key: "a running trigger")
                return (id: try reader.value(0, "id", as: Int64.self), pid: try reader.optional(1, "worker_pid", as: Int32.self) ?? 0,
                        startTime: try reader.optional(2, "worker_start_time", as: Int64.self) ?? 0,
                        attempts: try reader.value(3, "attempts", as: Int.self), run: try reader.optional(4, "run_id", as: Int64.self))
            }
        }
        // The liveness check reads /proc and must not hold the write lock.
        let dead = running.filter { !isAlive($0.pid, $0.startTime) }.sorted { $0.id < $1.id }
        if dead.isEmpty { return TriggerRecovery() }
        return try write("queue the triggers of a stopped server again") { db -> TriggerRecovery in
            var recovery = TriggerRecovery()
            let requeue = try db.cachedStatement(sql: """
                UPDATE trigger_queue SET state = 'queued', started_at = NULL, run_id = NULL, worker_host = NULL,
                    worker_pid = NULL, worker_start_time = NULL, note = ?
                WHERE id = ? AND state = 'running'
                """)
            let fail = try db.cachedStatement(sql: """
                UPDATE trigger_queue SET state = 'failed', finished_at = ?, error = ? WHERE id = ? AND state = 'running'
                """)
            for row in dead {
                let run = row.run.map { " (its run #\($0) was interrupted)" } ?? ""
                if row.attempts >= Self.maximumTriggerAttempts {
                    try fail.execute(arguments: [Date().timeIntervalSince1970,
                        "the server stopped \(row.attempts) times while working on it\(run); not tried again: "
                        + "look at the run's log for what brings the server down, then push again", row.id])
                    if db.changesCount > 0 { recovery.failed.append(row.id) }
                } else {
                    try requeue.execute(arguments: ["the server stopped while working on it\(run); queued again", row.id])
                    if db.changesCount > 0 { recovery.requeued.append(row.id) }
                }
            }
            return recovery
        }
    }

    /// The queue, newest first: at most `limit` rows with an id below `before`.
    public func triggers(before: Int64? = nil, limit: Int = 50) throws(RunStoreError) -> [TriggerRecord] {
        try read("list the trigger queue") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(Self.triggerColumns) FROM trigger_queue WHERE id < ? ORDER BY id DESC LIMIT ?
                """), arguments: [before ?? Int64.max, limit]).map { row throws(RunStoreError) in try Self.trigger(row) }
        }
    }

    /// Row `id`, or nil.
    public func trigger(id: Int64) throws(RunStoreError) -> TriggerRecord? {
        try read("read trigger #\(id)") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.triggerColumns) FROM trigger_queue WHERE id = ?"),
                             arguments: [id]).map { row throws(RunStoreError) in try Self.trigger(row) }
        }
    }

    /// Marks the row the `select` statement finds `running` for this process.
    private func claim(_ operation: String, time: Date, sql select: String) throws(RunStoreError) -> TriggerRecord? {
        let identity = ProcessIdentity.current()
        return try write(operation) { db -> TriggerRecord? in
            guard let id = try Int64.fetchOne(db.cachedStatement(sql: select)) else { return nil }
            try db.cachedStatement(sql: """
                UPDATE trigger_queue SET state = 'running', attempts = attempts + 1, started_at = ?,
                    worker_host = ?, worker_pid = ?, worker_start_time = ?
                WHERE id = ?
                """).execute(arguments: [time.timeIntervalSince1970, ProcessIdentity.hostName(), identity.pid,
                                         identity.startTime, id])
            return try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.triggerColumns) FROM trigger_queue WHERE id = ?"),
                                    arguments: [id]).map { row throws(RunStoreError) in try Self.trigger(row) }
        }
    }

    /// A record from a row of ``triggerColumns``.
    static func trigger(_ row: Row) throws(RunStoreError) -> TriggerRecord {
        let id = Int64.fromDatabaseValue(row[0] as DatabaseValue)
        let reader = RowReader(row: row, table: "trigger_queue", key: id.map { "trigger #\($0)" } ?? "a trigger")
        return TriggerRecord(
            id: try reader.value(0, "id"),
            source: try reader.enumeration(1, "source"),
            deliveryID: try reader.value(2, "delivery_id"),
            branch: try reader.value(3, "branch"),
            commit: try reader.value(4, "git_commit"),
            before: try reader.optional(5, "before_commit"),
            pipeline: try reader.optional(6, "pipeline"),
            pushID: try reader.optional(7, "push_id"),
            state: try reader.enumeration(8, "state"),
            runID: try reader.optional(9, "run_id"),
            attempts: try reader.value(10, "attempts"),
            createdAt: try reader.date(11, "created_at"),
            startedAt: try reader.optionalDate(12, "started_at"),
            finishedAt: try reader.optionalDate(13, "finished_at"),
            note: try reader.optional(14, "note"),
            error: try reader.optional(15, "error"))
    }
}
