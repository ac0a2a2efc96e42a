import Foundation
internal import GRDB

/// Reads one row's columns by index, throwing ``RunStoreError`` for a value that
/// is missing or of the wrong type instead of trapping, as GRDB's subscripts do.
///
/// Errors name the table, the column and the row's key, never the value: a
/// column may hold a secret.
struct RowReader {
    let row: Row
    let table: String
    /// The row's key as a user reads it: "run #42", "stage 'train' of run #42".
    let key: String

    /// The non-NULL value at `index`.
    func value<T: DatabaseValueConvertible>(_ index: Int, _ column: String, as type: T.Type = T.self) throws(RunStoreError) -> T {
        guard let value = try optional(index, column, as: T.self) else {
            throw invalid(column, "is NULL")
        }
        return value
    }

    /// The value at `index`, nil when NULL.
    func optional<T: DatabaseValueConvertible>(_ index: Int, _ column: String, as type: T.Type = T.self) throws(RunStoreError) -> T? {
        guard index < row.count else { throw invalid(column, "is missing") }
        let dbValue: DatabaseValue = row[index]
        if dbValue.isNull { return nil }
        guard let value = T.fromDatabaseValue(dbValue) else {
            throw invalid(column, "does not hold a \(T.self)")
        }
        return value
    }

    /// A time stored as seconds since 1970.
    func date(_ index: Int, _ column: String) throws(RunStoreError) -> Date {
        Date(timeIntervalSince1970: try value(index, column, as: Double.self))
    }

    /// A time stored as seconds since 1970, nil when NULL.
    func optionalDate(_ index: Int, _ column: String) throws(RunStoreError) -> Date? {
        try optional(index, column, as: Double.self).map { Date(timeIntervalSince1970: $0) }
    }

    /// An enumeration stored as its raw value.
    ///
    /// An unknown value most likely comes from a newer mlpipe, which may add
    /// statuses; the value is shown since statuses are never secret.
    func enumeration<T: RawRepresentable>(_ index: Int, _ column: String, as type: T.Type = T.self) throws(RunStoreError) -> T
    where T.RawValue == String {
        let raw = try value(index, column, as: String.self)
        guard let value = T(rawValue: raw) else {
            throw RunStoreError(
                code: .invalidRecord, operation: "read \(key)", path: nil,
                reason: "unknown \(table).\(column) '\(raw)'",
                remedy: "a newer mlpipe probably wrote it; use that version or a later one")
        }
        return value
    }

    private func invalid(_ column: String, _ problem: String) -> RunStoreError {
        RunStoreError(
            code: .invalidRecord, operation: "read \(key)", path: nil,
            reason: "column \(table).\(column) \(problem)",
            remedy: "the database was edited by hand or by another tool; restore it or move it aside")
    }
}

/// Statement arguments from a list of optional values, in column order.
func arguments(_ values: [(any DatabaseValueConvertible)?]) -> StatementArguments {
    StatementArguments(values)
}
