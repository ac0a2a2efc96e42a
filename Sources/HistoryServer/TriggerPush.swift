import Foundation
import RunStore

/// One push of the webhook trigger queue with the pipeline rows it asked for: what a row
/// of the triggers page shows.
///
/// The store keeps a push and its pipelines as separate rows (``TriggerRecord``); a
/// person asks how the push went, which is the state of all of them together
/// (``state``), and which runs it made (``runs``).
struct TriggerPush: Sendable {
    let push: TriggerRecord
    /// Its pipeline rows, oldest first; none before it is planned, or when it touched
    /// nothing.
    let pipelines: [TriggerRecord]

    /// How the push stands: its own state until it is planned; then `running` while one
    /// of its pipeline rows runs, `queued` while one waits, `failed` once one failed,
    /// `done` when every one is done (whatever their runs' status: the runs say that).
    var state: TriggerRecord.State {
        guard push.state == .done else { return push.state }
        let states = Set(pipelines.map(\.state))
        for state in [TriggerRecord.State.running, .queued, .failed] where states.contains(state) { return state }
        return .done
    }

    /// When the last of its rows ended; nil while one is queued or running.
    var finishedAt: Date? {
        let rows = [push] + pipelines
        guard rows.allSatisfy({ $0.finishedAt != nil }) else { return nil }
        return rows.compactMap(\.finishedAt).max()
    }

    /// The runs its pipeline rows made, oldest first.
    var runs: [Int64] { pipelines.compactMap(\.runID) }

    /// Whether something is still to happen (the page then reloads itself).
    var isLive: Bool { state == .queued || state == .running }

    /// A page of pushes, newest first, with their pipeline rows: two queries, whatever
    /// the page (``SQLiteRunStore/triggerPushes(before:limit:)``).
    static func page(_ store: SQLiteRunStore, before: Int64?, limit: Int) throws(RunStoreError) -> [TriggerPush] {
        let pushes = try store.triggerPushes(before: before, limit: limit)
        let rows = try store.pipelineTriggers(ofPushes: pushes.compactMap(\.id))
        let byPush = Dictionary(grouping: rows, by: { $0.pushID ?? 0 })
        return pushes.map { TriggerPush(push: $0, pipelines: byPush[$0.id ?? 0] ?? []) }
    }
}
