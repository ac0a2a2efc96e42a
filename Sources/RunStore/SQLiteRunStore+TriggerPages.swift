import Foundation
internal import GRDB

/// The trigger queue as `mlpipe serve`'s triggers page shows it: a page of pushes, then
/// the pipeline rows of exactly those pushes.
///
/// Two queries rather than one list of every row, so that a page holds whole pushes
/// (``triggers(before:limit:)`` cuts wherever its limit falls, which may part a push from
/// its pipelines).
extension SQLiteRunStore {
    /// The pushes (rows without a pipeline), newest first: at most `limit` with an id
    /// below `before`.
    ///
    /// A backward walk of the primary key that skips pipeline rows. A pipeline row's id
    /// is always above its push's (it is made when the push is planned), so the rows
    /// skipped are the pipelines of the pushes on this page and of those just above it:
    /// a page costs about `limit` times the pipelines a push runs, whatever the length of
    /// the queue, and page 2,000 costs what page 1 does.
    public func triggerPushes(before: Int64? = nil, limit: Int = 50) throws(RunStoreError) -> [TriggerRecord] {
        try read("list the pushes of the trigger queue") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(Self.triggerColumns) FROM trigger_queue
                WHERE pipeline IS NULL AND id < ? ORDER BY id DESC LIMIT ?
                """), arguments: [before ?? Int64.max, max(1, limit)]).map { row throws(RunStoreError) in try Self.trigger(row) }
        }
    }

    /// The pipeline rows of the pushes `pushIDs`, oldest first (through
    /// `trigger_queue_on_push_id`); none for no pushes.
    public func pipelineTriggers(ofPushes pushIDs: [Int64]) throws(RunStoreError) -> [TriggerRecord] {
        guard !pushIDs.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: pushIDs.count).joined(separator: ", ")
        return try read("list the pipeline runs of \(pushIDs.count) pushes") { db in
            // Not a cached statement: its text changes with the number of pushes.
            try Row.fetchAll(db, sql: """
                SELECT \(Self.triggerColumns) FROM trigger_queue WHERE push_id IN (\(marks)) ORDER BY id
                """, arguments: StatementArguments(pushIDs)).map { row throws(RunStoreError) in try Self.trigger(row) }
        }
    }
}
