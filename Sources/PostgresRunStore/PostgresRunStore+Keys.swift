import Foundation
import PostgresNIO
import RunStore

/// Runs that several processes record: the tasks of one workflow, joined by a key.
extension PostgresRunStore {
    /// Looks the key up; when it is missing, one transaction inserts the run and then the
    /// key with `ON CONFLICT DO NOTHING`. A task that joins at the same moment from
    /// another machine waits there for the first transaction, finds the key taken and
    /// rolls its own run back (the sequence keeps the gap, as any rolled-back insert
    /// does), then finds the first one's run. A keyed run has no lease: no one process
    /// lives as long as it, so it is never marked interrupted for want of a heartbeat.
    public func joinRun(_ run: RunRecord, key: String, stages: [StageRecord]) async throws(RunStoreError) -> Int64 {
        let operation = "record run '\(key)' of pipeline '\(run.pipeline)'"
        try stages.checkDistinctNames(operation: operation, path: location.redacted)
        // Twice at most: the second look-up finds the run of the task that won the race.
        for _ in 0..<2 {
            if let id = try await access(operation, transaction: true, { connection in
                try await addMissing(stages, toRunOf: key, on: connection)
            }) {
                return id
            }
            do {
                let created: Int64? = try await access(operation, transaction: true) { connection in
                    let id = try await insert(run, stages: stages, lease: false, on: connection, operation: operation)
                    let keyed = try await rows("""
                        INSERT INTO run_key (key, run_id) VALUES (\(key), \(id)) ON CONFLICT (key) DO NOTHING RETURNING run_id
                        """, on: connection)
                    // Lost the race: undo this run (by rolling the transaction back).
                    guard !keyed.isEmpty else {
                        throw RunStoreError(code: .other, operation: operation, path: location.redacted,
                                            reason: "another task created the run first", remedy: "none: it is joined next",
                                            cause: KeyTaken())
                    }
                    return id
                }
                if let created { return created }
            } catch where error.cause is KeyTaken {
                continue
            } catch where error.sqlState == "23503" {
                throw RunStoreError(code: .notFound, operation: operation, path: location.redacted,
                                    reason: "its parent run #\(run.parentRun ?? 0) does not exist",
                                    remedy: "re-run a run that `mlpipe runs` lists", cause: error.cause)
            }
        }
        throw RunStoreError(code: .other, operation: operation, path: location.redacted,
                            reason: "the key was taken and then not found", remedy: "this is a bug in mlpipe; please report it")
    }

    /// The id of the run of `key` after adding those of `stages` it lacks, or nil when no run has it.
    func addMissing(_ stages: [StageRecord], toRunOf key: String, on connection: PostgresConnection) async throws -> Int64? {
        guard let id = try await rows("SELECT run_id FROM run_key WHERE key = \(key)", on: connection).first?
            .decode(Int64.self) else { return nil }
        for var stage in stages {
            stage.runID = id
            try await execute(PostgresQuery(unsafeSQL: "INSERT INTO stage (\(StageRecord.columns)) VALUES "
                                            + "(\(PostgresRecords.placeholders(19))) ON CONFLICT (run_id, name) DO NOTHING",
                                            binds: PostgresRecords.bindings(stage)), on: connection)
        }
        return id
    }

    /// Locks run `runID`'s row when the run has a key, so that the stage updates of its
    /// tasks, which may finish at the same moment, set its status one after another;
    /// returns whether it has one. Called first in the transaction that updates a stage.
    func lockKeyedRun(_ runID: Int64, on connection: PostgresConnection) async throws -> Bool {
        try await !rows("""
            SELECT run.id FROM run JOIN run_key ON run_key.run_id = run.id WHERE run.id = \(runID) FOR UPDATE OF run
            """, on: connection).isEmpty
    }

    /// Gives a keyed run the status its stages add up to (``RunStatus/ofStages(_:)``), in
    /// the transaction that changed one of them (after ``lockKeyedRun(_:on:)``).
    func settleKeyedRun(_ runID: Int64, on connection: PostgresConnection) async throws {
        guard let started = try await rows("SELECT started_at FROM run WHERE id = \(runID)", on: connection).first?
            .decode(Double.self) else { return }
        var statuses: [StageStatus] = []
        var ends: [Date?] = []
        for row in try await rows("SELECT status, finished_at FROM stage WHERE run_id = \(runID)", on: connection) {
            let (status, end) = try row.decode((String, Double?).self)
            guard let known = StageStatus(rawValue: status) else {
                throw RunStoreError(code: .invalidRecord, operation: "settle run #\(runID)", path: location.redacted,
                                    reason: "a stage has the unknown status '\(status)'",
                                    remedy: "use the mlpipe version that wrote it, or a newer one")
            }
            statuses.append(known)
            ends.append(end.map { Date(timeIntervalSince1970: $0) })
        }
        let status = RunStatus.ofStages(statuses)
        let finishedAt = RunStatus.finishedAt(status, stageEnds: ends, startedAt: Date(timeIntervalSince1970: started))
        try await execute("""
            UPDATE run SET status = \(status.rawValue), finished_at = \(finishedAt?.timeIntervalSince1970) WHERE id = \(runID)
            """, on: connection)
    }
}

/// Thrown inside ``PostgresRunStore/joinRun(_:key:stages:)``'s transaction to roll it back
/// when another task created the run of the key first.
struct KeyTaken: Error {}
