internal import GRDB

/// Runs' notes, in `run_note` (see ``Schema/addRunNotes(_:)``).
extension SQLiteRunStore {
    /// One immediate transaction: an upsert of the run's `run_note` row, then its read.
    public func setNote(runID: Int64, _ text: String, append: Bool) throws(RunStoreError) -> RunRecord {
        let operation = "record the note of run #\(runID)"
        let found = try write(operation) { db -> Bool in
            guard try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM run WHERE id = ?"), arguments: [runID]) != nil else {
                return false
            }
            let note: String?
            if append {
                let old = try String.fetchOne(db.cachedStatement(sql: "SELECT note FROM run_note WHERE run_id = ?"), arguments: [runID])
                note = [old, text].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
            } else {
                note = text
            }
            try db.cachedStatement(sql: """
                INSERT INTO run_note (run_id, note) VALUES (?, ?)
                ON CONFLICT (run_id) DO UPDATE SET note = excluded.note
                """).execute(arguments: [runID, note?.isEmpty == true ? nil : note])
            return true
        }
        guard found, let record = try run(id: runID) else { throw notFound(run: runID, operation: operation) }
        return record
    }
}
