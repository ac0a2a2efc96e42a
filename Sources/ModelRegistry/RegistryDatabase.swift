import Foundation
internal import GRDB
import RunStore

/// The workspace's SQLite file as the registry uses it (the registry's tables are the run
/// store's migration v4): a ``WorkspaceDatabase``, written only in immediate transactions.
///
/// Immediate transactions are what make registration idempotent across processes: the
/// write lock is taken before the existing row is looked for, so of two processes that
/// register one package at once, the second sees the first one's row.
final class RegistryDatabase: Sendable {
    /// The file.
    var path: String { database.path }
    let database: WorkspaceDatabase

    /// Opens (creating and migrating when needed) the file at `path`.
    init(path: String, busyTimeout: Double = 10) throws(RegistryError) {
        do {
            database = try WorkspaceDatabase(path: path, busyTimeout: busyTimeout, label: "mlpipe.ModelRegistry")
        } catch {
            throw RegistryError(.database, "cannot open the model registry in \(path): \(error.reason)",
                                remedy: error.remedy, cause: error)
        }
    }

    /// Runs `body` in an immediate transaction.
    func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try database.write(body) } catch { throw wrap(error, operation()) }
    }

    /// Runs `body` in a deferred (read) transaction: one consistent snapshot.
    func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try database.read(body) } catch { throw wrap(error, operation()) }
    }

    /// A `RegistryError` as it is, SQLite's errors as the run store words them (never a
    /// statement's arguments).
    func wrap(_ error: any Error, _ operation: String) -> RegistryError {
        if let error = error as? RegistryError { return error }
        if let failure = database.failure(error, operation: operation) ?? (error as? RunStoreError) {
            return RegistryError(.database, "cannot \(operation) in \(path): \(failure.reason)", remedy: failure.remedy,
                                 cause: failure)
        }
        return RegistryError(.database, "cannot \(operation): unexpected \(type(of: error))",
                             remedy: "this is a bug in mlpipe; please report it")
    }
}
