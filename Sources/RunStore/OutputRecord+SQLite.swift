import Foundation
internal import GRDB

/// How an ``OutputRecord`` maps to a row of the `output` table.
extension OutputRecord {
    /// Every column, in ``init(row:)`` order.
    package static let columns = "run_id, stage, name, digest, kind, size, path"

    /// The INSERT statement.
    static let insertSQL = "INSERT INTO output (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?)"

    /// The arguments of ``insertSQL``.
    var insertArguments: StatementArguments {
        arguments([runID, stage, name, digest, kind, size, path])
    }

    /// A record from a row of ``columns``, possibly qualified with a table name.
    init(row: Row) throws(RunStoreError) {
        let runID = Int64.fromDatabaseValue(row[0] as DatabaseValue) ?? 0
        let stage = String.fromDatabaseValue(row[1] as DatabaseValue) ?? "?"
        let name = String.fromDatabaseValue(row[2] as DatabaseValue) ?? "?"
        let reader = RowReader(row: row, table: "output", key: "output '\(name)' of stage '\(stage)' of run #\(runID)")
        self.init(
            runID: try reader.value(0, "run_id"),
            stage: try reader.value(1, "stage"),
            name: try reader.value(2, "name"),
            digest: try reader.value(3, "digest"),
            kind: try reader.value(4, "kind"),
            size: try reader.value(5, "size"),
            path: try reader.value(6, "path"))
    }
}
