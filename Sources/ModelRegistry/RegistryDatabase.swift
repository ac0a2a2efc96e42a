import Foundation
internal import GRDB
import RunStore

/// The workspace's SQLite file as the registry uses it: opened after `SQLiteRunStore` has
/// brought it to the current schema (the registry's tables are its migration v4), with a
/// busy timeout, and written only in immediate transactions.
///
/// Immediate transactions are what make registration idempotent across processes: the
/// write lock is taken before the existing row is looked for, so of two processes that
/// register one package at once, the second sees the first one's row.
final class RegistryDatabase: Sendable {
    /// The file.
    let path: String
    /// The one connection (a `DatabaseQueue` is Sendable and serialises its calls).
    let queue: DatabaseQueue
    /// How long a write waits for another process's.
    let busyTimeout: Double

    /// Opens (creating and migrating when needed) the file at `path`.
    init(path: String, busyTimeout: Double = 10) throws(RegistryError) {
        self.path = path
        self.busyTimeout = busyTimeout
        do {
            // Migrates the file (the run history's tables and the registry's); WAL is a
            // property of the file, so it holds for the connection below as well.
            _ = try SQLiteRunStore(path: path, busyTimeout: .milliseconds(Int64(busyTimeout * 1000)))
        } catch {
            throw RegistryError(.database, "cannot open the model registry in \(path): \(error.reason)",
                                remedy: error.remedy, cause: error)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "mlpipe.ModelRegistry"
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw Self.wrap(error, "open the model registry in \(path)", path: path, busyTimeout: busyTimeout)
        }
    }

    /// Runs `body` in an immediate transaction.
    func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        do {
            return try queue.inDatabase { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw RegistryError(.database, "a transaction returned nothing", remedy: "report this bug") }
                return result
            }
        } catch {
            throw Self.wrap(error, operation(), path: path, busyTimeout: busyTimeout)
        }
    }

    /// Runs `body` in a deferred (read) transaction: one consistent snapshot.
    func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        do {
            return try queue.inDatabase { db in
                var result: T?
                try db.inTransaction(.deferred) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw RegistryError(.database, "a transaction returned nothing", remedy: "report this bug") }
                return result
            }
        } catch {
            throw Self.wrap(error, operation(), path: path, busyTimeout: busyTimeout)
        }
    }

    /// A `RegistryError` as it is, anything else as a database error that keeps SQLite's
    /// message but never a statement's arguments.
    static func wrap(_ error: any Error, _ operation: String, path: String, busyTimeout: Double) -> RegistryError {
        if let error = error as? RegistryError { return error }
        guard let error = error as? DatabaseError else {
            return RegistryError(.database, "cannot \(operation): unexpected \(type(of: error))",
                                 remedy: "this is a bug in mlpipe; please report it")
        }
        let reason = "\(error.message ?? "SQLite error") (SQLite error \(error.extendedResultCode.rawValue))"
        let remedy: String = switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            "another mlpipe process held \(path) for more than \(Int(busyTimeout)) s; wait for it and try again"
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM: "check that \(path) and its folder are writable"
        case .SQLITE_FULL: "free some disk space and try again"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: "\(path) is damaged; move it aside to start a new history"
        default: "this is likely a bug in mlpipe; please report it with this message"
        }
        let cause = DatabaseError(resultCode: error.extendedResultCode, message: error.message, sql: error.sql)
        return RegistryError(.database, "cannot \(operation) in \(path): \(reason)", remedy: remedy, cause: cause)
    }
}
