import Foundation
package import GRDB

/// Another connection to the workspace's SQLite file, for a capability that keeps its own
/// tables there (the model registry, the deployments): opened after `SQLiteRunStore` has
/// brought the file to the current schema (WAL is a property of the file, so it holds for
/// this connection too), with a busy timeout; writes are immediate transactions and reads
/// deferred ones, each one consistent snapshot.
///
/// Immediate transactions are what make a look-then-insert safe across processes: the
/// write lock is taken before the existing row is looked for. Errors come back as
/// ``RunStoreError``s (SQLite's message and what to do, never a statement's arguments);
/// each capability words them as its own error with ``RunStoreError/reason`` and
/// ``RunStoreError/remedy``.
package final class WorkspaceDatabase: Sendable {
    /// The file.
    package let path: String
    /// The one connection (a `DatabaseQueue` is Sendable and serialises its calls).
    let queue: DatabaseQueue
    /// How long a write waits for another process's.
    package let busyTimeout: Double

    /// Opens (creating and migrating when needed) the file at `path`; `label` names the
    /// connection in SQLite's traces.
    package init(path: String, busyTimeout: Double, label: String) throws(RunStoreError) {
        self.path = path
        self.busyTimeout = busyTimeout
        let timeout = Duration.milliseconds(Int64(busyTimeout * 1000))
        _ = try SQLiteRunStore(path: path, busyTimeout: timeout)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = label
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw SQLiteRunStore.wrap(error, operation: "open \(path)", path: path, busyTimeout: timeout)
        }
    }

    /// Runs `body` in an immediate transaction. Throws what `body` throws as it is, and
    /// SQLite's own errors as it raised them (see ``failure(_:operation:)``).
    package func write<T>(_ body: (Database) throws -> T) throws -> T {
        try transaction(.immediate, body)
    }

    /// Runs `body` in a deferred (read) transaction: one consistent snapshot.
    package func read<T>(_ body: (Database) throws -> T) throws -> T {
        try transaction(.deferred, body)
    }

    private func transaction<T>(_ kind: Database.TransactionKind, _ body: (Database) throws -> T) throws -> T {
        try queue.inDatabase { db in
            var result: T?
            try db.inTransaction(kind) {
                result = try body(db)
                return .commit
            }
            guard let result else {
                throw RunStoreError(code: .other, operation: "a transaction", path: path,
                                    reason: "the transaction returned nothing", remedy: "this is a bug in mlpipe; please report it")
            }
            return result
        }
    }

    /// A SQLite error of `operation`, as the run store words it (what, and what to do);
    /// nil for an error that is not SQLite's, which the caller words itself.
    package func failure(_ error: any Error, operation: String) -> RunStoreError? {
        guard error is DatabaseError else { return nil }
        return SQLiteRunStore.wrap(error, operation: operation, path: path,
                                   busyTimeout: .milliseconds(Int64(busyTimeout * 1000)))
    }
}
