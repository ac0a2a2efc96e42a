import Foundation
internal import GRDB

/// Runs whose folders were pruned: which to prune, and marking them.
extension SQLiteRunStore {
    /// One read: every finished, unpruned run that `selection` picks, oldest first.
    ///
    /// A scan of `run`: pruning is occasional maintenance, and an index on
    /// `pruned_at` would cost every run's insert.
    public func runsToPrune(_ selection: PruneSelection) throws(RunStoreError) -> [RunRecord] {
        if selection.status == .running { return [] }
        var conditions = ["status != 'running'", "pruned_at IS NULL"]
        var values: [(any DatabaseValueConvertible)?] = []
        if let status = selection.status {
            conditions.append("status = ?")
            values.append(status.rawValue)
        }
        if let cutoff = selection.endedBefore {
            conditions.append("IFNULL(finished_at, started_at) < ?")
            values.append(cutoff.timeIntervalSince1970)
        }
        if let keep = selection.keep, keep > 0 {
            // The newest `keep` finished runs of the selection's status, pruned or not.
            var kept = "SELECT id FROM run WHERE status != 'running'"
            if let status = selection.status {
                kept += " AND status = ?"
                values.append(status.rawValue)
            }
            conditions.append("id NOT IN (\(kept) ORDER BY id DESC LIMIT ?)")
            values.append(keep)
        }
        let sql = "SELECT \(RunRecord.listColumns) FROM \(RunRecord.source) WHERE \(conditions.joined(separator: " AND ")) ORDER BY id"
        return try read("find the runs to prune") { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments(values))
                .map { row throws(RunStoreError) in try RunRecord(row: row) }
        }
    }

    /// One transaction: sets `pruned_at` on each run of `runIDs` that is finished
    /// and not yet pruned.
    public func markPruned(runIDs: [Int64], at date: Date) throws(RunStoreError) -> [Int64] {
        guard !runIDs.isEmpty else { return [] }
        let names = runIDs.prefix(5).map { "#\($0)" }.joined(separator: ", ") + (runIDs.count > 5 ? ", …" : "")
        return try write("mark runs \(names) pruned") { db in
            let mark = try db.cachedStatement(sql: """
                UPDATE run SET pruned_at = ? WHERE id = ? AND pruned_at IS NULL AND status != 'running'
                """)
            var marked: [Int64] = []
            for id in runIDs {
                try mark.execute(arguments: [date.timeIntervalSince1970, id])
                if db.changesCount > 0 { marked.append(id) }
            }
            return marked
        }
    }
}
