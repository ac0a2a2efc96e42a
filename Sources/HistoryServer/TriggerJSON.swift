import Foundation
import PipelineSpec
import RunStore

/// The JSON shape of the webhook trigger queue (`GET /api/v1/triggers`), camelCase like
/// ``HistoryJSON``: every key in every object, `null` for no value.
enum TriggerJSON {
    /// One row: a push (`pipeline` null) or a pipeline run it asked for (`pushId` set).
    static func trigger(_ row: TriggerRecord) -> Value {
        .object([
            "id": HistoryJSON.int(row.id),
            "source": .string(row.source.rawValue),
            "deliveryId": .string(row.deliveryID),
            "branch": .string(row.branch),
            "commit": .string(row.commit),
            "before": HistoryJSON.string(row.before),
            "pipeline": HistoryJSON.string(row.pipeline),
            "pushId": HistoryJSON.int(row.pushID),
            "state": .string(row.state.rawValue),
            "runId": HistoryJSON.int(row.runID),
            "attempts": .int(row.attempts),
            "createdAt": HistoryJSON.date(row.createdAt),
            "startedAt": HistoryJSON.date(row.startedAt),
            "finishedAt": HistoryJSON.date(row.finishedAt),
            "note": HistoryJSON.string(row.note),
            "error": HistoryJSON.string(row.error),
        ])
    }

    /// The answer of `GET /api/v1/triggers`: the rows, newest first.
    static func triggers(_ rows: [TriggerRecord]) -> Value { .array(rows.map(trigger)) }
}
