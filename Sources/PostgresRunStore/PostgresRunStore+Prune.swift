import Foundation
import PostgresNIO
import RunStore

/// Runs whose folders were pruned, and runs' notes.
extension PostgresRunStore {
    /// One read: every finished, unpruned run that `selection` picks, oldest first.
    public func runsToPrune(_ selection: PruneSelection) async throws(RunStoreError) -> [RunRecord] {
        if selection.status == .running { return [] }
        var conditions = ["status != 'running'", "pruned_at IS NULL"]
        var b = PostgresBindings()
        if let status = selection.status {
            b.append(status.rawValue)
            conditions.append("status = $\(b.count)")
        }
        if let cutoff = selection.endedBefore {
            b.append(cutoff.timeIntervalSince1970)
            conditions.append("COALESCE(finished_at, started_at) < $\(b.count)")
        }
        if let keep = selection.keep, keep > 0 {
            // The newest `keep` finished runs of the selection's status, pruned or not.
            var kept = "SELECT id FROM run WHERE status != 'running'"
            if let status = selection.status {
                b.append(status.rawValue)
                kept += " AND status = $\(b.count)"
            }
            b.append(Int64(keep))
            conditions.append("id NOT IN (\(kept) ORDER BY id DESC LIMIT $\(b.count))")
        }
        let query = PostgresQuery(unsafeSQL: "SELECT \(RunRecord.listColumns) FROM \(RunRecord.source) WHERE "
                                  + conditions.joined(separator: " AND ") + " ORDER BY id", binds: b)
        let found = try await access("find the runs to prune") { try await rows(query, on: $0) }
        return try found.map { row throws(RunStoreError) in try PostgresRecords.run(row) }
    }

    /// One UPDATE of every run of `runIDs` that is finished and not yet pruned; the ids
    /// come back in the order they were given.
    public func markPruned(runIDs: [Int64], at date: Date) async throws(RunStoreError) -> [Int64] {
        guard !runIDs.isEmpty else { return [] }
        let names = runIDs.prefix(5).map { "#\($0)" }.joined(separator: ", ") + (runIDs.count > 5 ? ", …" : "")
        let operation = "mark runs \(names) pruned"
        let query: PostgresQuery = """
            UPDATE run SET pruned_at = \(date.timeIntervalSince1970)
            WHERE id = ANY(\(runIDs)) AND pruned_at IS NULL AND status != 'running' RETURNING id
            """
        let found = try await access(operation) { try await rows(query, on: $0) }
        var marked = Set<Int64>()
        do {
            for row in found { marked.insert(try row.decode(Int64.self)) }
        } catch {
            throw wrap(error, operation: operation)
        }
        return runIDs.filter { marked.contains($0) }
    }

    /// One transaction: the run's `run_note` row is upserted (an append reads the note
    /// under the row's lock, so two appends at once both land), then the run is read.
    public func setNote(runID: Int64, _ text: String, append: Bool) async throws(RunStoreError) -> RunRecord {
        let operation = "record the note of run #\(runID)"
        let found = try await access(operation, transaction: true) { connection -> Bool in
            // Locks the run's row: a concurrent append waits here, then reads this one's note.
            guard try await rows("SELECT id FROM run WHERE id = \(runID) FOR UPDATE", on: connection).first != nil else {
                return false
            }
            var note: String? = text
            if append {
                let old = try await rows("SELECT note FROM run_note WHERE run_id = \(runID)", on: connection)
                    .first?.decode(String?.self)
                note = [old ?? nil, text].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
            }
            if note?.isEmpty == true { note = nil }
            try await execute("""
                INSERT INTO run_note (run_id, note) VALUES (\(runID), \(note))
                ON CONFLICT (run_id) DO UPDATE SET note = excluded.note
                """, on: connection)
            return true
        }
        guard found, let record = try await run(id: runID) else { throw notFound(run: runID, operation: operation) }
        return record
    }
}
