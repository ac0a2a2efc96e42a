import Foundation
import PostgresNIO
import RunStore

/// Reads one row's columns by index, throwing ``RunStoreError`` for a value that is
/// missing or of the wrong type: the twin of `RunStore`'s `RowReader`.
///
/// Errors name the table, the column and the row's key, never the value: a column may
/// hold a secret. Integers are read as `BIGINT` (see ``PostgresSchema``) and narrowed here.
struct PostgresRowReader {
    let row: PostgresRandomAccessRow
    let table: String
    /// The row's key as a user reads it: "run #42", "stage 'train' of run #42".
    let key: String

    init(_ row: PostgresRow, table: String, key: String) {
        self.row = row.makeRandomAccess()
        self.table = table
        self.key = key
    }

    /// The non-NULL value at `index`.
    func value<T: PostgresDecodable>(_ index: Int, _ column: String, as type: T.Type = T.self) throws(RunStoreError) -> T {
        guard let value = try optional(index, column, as: T.self) else { throw invalid(column, "is NULL") }
        return value
    }

    /// The value at `index`, nil when NULL.
    func optional<T: PostgresDecodable>(_ index: Int, _ column: String, as type: T.Type = T.self) throws(RunStoreError) -> T? {
        guard index < row.count else { throw invalid(column, "is missing") }
        let cell = row[index]
        if cell.bytes == nil { return nil }
        do {
            return try cell.decode(T.self)
        } catch {
            throw invalid(column, "does not hold a \(T.self)")
        }
    }

    /// An `Int` stored as `BIGINT`.
    func int(_ index: Int, _ column: String) throws(RunStoreError) -> Int {
        Int(try value(index, column, as: Int64.self))
    }

    /// An `Int32` (a pid, an exit status) stored as `BIGINT`, nil when NULL.
    func optionalInt32(_ index: Int, _ column: String) throws(RunStoreError) -> Int32? {
        guard let wide = try optional(index, column, as: Int64.self) else { return nil }
        guard let narrow = Int32(exactly: wide) else { throw invalid(column, "is out of range") }
        return narrow
    }

    /// An `Int32` stored as `BIGINT`.
    func int32(_ index: Int, _ column: String) throws(RunStoreError) -> Int32 {
        guard let value = try optionalInt32(index, column) else { throw invalid(column, "is NULL") }
        return value
    }

    /// A flag stored as 0 or 1, as SQLite stores it.
    func flag(_ index: Int, _ column: String) throws(RunStoreError) -> Bool {
        try value(index, column, as: Int64.self) != 0
    }

    /// A time stored as seconds since 1970.
    func date(_ index: Int, _ column: String) throws(RunStoreError) -> Date {
        Date(timeIntervalSince1970: try value(index, column, as: Double.self))
    }

    /// A time stored as seconds since 1970, nil when NULL.
    func optionalDate(_ index: Int, _ column: String) throws(RunStoreError) -> Date? {
        try optional(index, column, as: Double.self).map { Date(timeIntervalSince1970: $0) }
    }

    /// An enumeration stored as its raw value; an unknown one most likely comes from a
    /// newer mlpipe, and is shown, since statuses are never secret.
    func enumeration<T: RawRepresentable>(_ index: Int, _ column: String, as type: T.Type = T.self) throws(RunStoreError) -> T
    where T.RawValue == String {
        let raw = try value(index, column, as: String.self)
        guard let value = T(rawValue: raw) else {
            throw RunStoreError(code: .invalidRecord, operation: "read \(key)", path: nil,
                                reason: "unknown \(table).\(column) '\(raw)'",
                                remedy: "a newer mlpipe probably wrote it; use that version or a later one")
        }
        return value
    }

    private func invalid(_ column: String, _ problem: String) -> RunStoreError {
        RunStoreError(code: .invalidRecord, operation: "read \(key)", path: nil,
                      reason: "column \(table).\(column) \(problem)",
                      remedy: "the database was edited by hand or by another tool; restore it")
    }
}
