import Foundation
internal import GRDB
import CSQLiteTuning

/// The run history in one SQLite file, normally `workspace/mlpipe.db`.
///
/// Several mlpipe processes use one file at once (CI runs jobs side by side), so
/// the database is in WAL mode, where readers never wait for the writer, and
/// every write is one short `BEGIN IMMEDIATE` transaction: a process that finds
/// the write lock taken waits for it (up to `busyTimeout`) instead of failing,
/// and no transaction can deadlock by upgrading a read to a write.
/// `synchronous = NORMAL` makes a commit cost no fsync; a power cut may lose the
/// last commits but never corrupts the file.
///
/// Opening is cheap, because mlpipe opens the store on every command: one
/// connection, two pragmas and one read of the applied migrations. Only a new or
/// older file is written to on open, to migrate it (see ``Schema``).
///
/// One instance may be shared by threads and tasks; its calls are serialised on
/// its one connection. Calls must not be nested (a ``RunStore/markInterruptedRuns(host:isAlive:)``
/// callback must not call the store): the connection is not re-entrant.
public final class SQLiteRunStore: RunStore, CacheIndex {
    /// The database file, as given to ``init(path:busyTimeout:)``.
    public let path: String
    /// How long a call waits for another process's write before it fails with
    /// ``RunStoreError/Code/busy``.
    public let busyTimeout: Duration
    /// The one connection. `DatabaseQueue` rather than `DatabasePool`: a CLI
    /// command does little concurrent reading, and one connection opens fastest.
    let database: DatabaseQueue

    /// Opens the store at `path`, creating the file and its parent folders when
    /// missing, and migrates it to the current schema.
    ///
    /// - Parameters:
    ///   - path: The SQLite file, e.g. `workspace/mlpipe.db`.
    ///   - busyTimeout: How long to wait for another process that holds the write
    ///     lock. Writes take milliseconds, so the default only matters when
    ///     something is wrong.
    public init(path: String, busyTimeout: Duration = .seconds(10)) throws(RunStoreError) {
        self.path = path
        self.busyTimeout = busyTimeout
        let openOperation = "open \(path)"

        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RunStoreError(
                code: .cannotOpen, operation: openOperation, path: path,
                reason: "cannot create the folder \(folder.path)",
                remedy: "check that its parent folder exists and is writable", cause: error)
        }

        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout.seconds)
        configuration.label = "mlpipe.RunStore"
        configuration.prepareDatabase { db in
            try Self.enableWAL(db, busyTimeout: busyTimeout)
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Closing the last connection would checkpoint the WAL into the database and
            // delete it: two fsyncs and an unlink, 5 to 10 ms that every mlpipe command
            // paid on exit. The WAL stays instead, and is checkpointed when it reaches
            // 1,000 pages (SQLite's automatic checkpoint), during a later write.
            if let connection = db.sqliteConnection {
                let code = mlpipe_sqlite_skip_checkpoint_on_close(UnsafeMutableRawPointer(connection))
                guard code == 0 /* SQLITE_OK */ else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot keep the WAL on close")
                }
            }
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw Self.wrap(error, operation: openOperation, path: path, busyTimeout: busyTimeout)
        }
        try migrate()
    }

    /// Brings the file to the current schema.
    ///
    /// The common case, a migrated file, is one read. Otherwise GRDB's migrator
    /// applies each missing migration in its own immediate transaction. Two
    /// processes may start migrating a new file at the same moment: the one that
    /// loses fails on a table that already exists, sees that the other has
    /// finished (or is finishing) the work, and tries again.
    func migrate() throws(RunStoreError) {
        let operation = "open \(path)"
        var attempt = 0
        while true {
            attempt += 1
            do {
                if try database.read({ try Schema.migrator.hasCompletedMigrations($0) }) {
                    return
                }
                try Schema.migrator.migrate(database)
                return
            } catch {
                let wrapped = Self.wrap(error, operation: operation, path: path, busyTimeout: busyTimeout)
                if attempt >= 10 || wrapped.code == .busy || wrapped.code == .corrupt
                    || wrapped.code == .cannotOpen || wrapped.code == .readOnly {
                    throw wrapped
                }
            }
        }
    }

    /// Puts the file in WAL mode.
    ///
    /// WAL is a property of the file, so this is a no-op once a first process has
    /// set it. (GRDB's `journalMode = .wal` would also write a table on every open
    /// while no other connection holds the WAL file, which every mlpipe command
    /// would pay for.) Switching a new file to WAL takes a lock that SQLite does
    /// not wait for, so processes that open a new file at the same moment get
    /// `SQLITE_BUSY` at once; they retry here, with a growing pause, until the
    /// busy timeout.
    static func enableWAL(_ db: Database, busyTimeout: Duration) throws {
        let deadline = ContinuousClock.now + busyTimeout
        var pause = Duration.milliseconds(1)
        while true {
            do {
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard mode?.lowercased() == "wal" else {
                    throw DatabaseError(
                        resultCode: .SQLITE_CANTOPEN,
                        message: "cannot switch to WAL mode (journal mode is \(mode ?? "unknown"))")
                }
                return
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: pause.seconds)
                pause = min(pause * 2, .milliseconds(50))
            }
        }
    }

    // MARK: - Access

    /// Runs `body` in an immediate write transaction, turning any error into a
    /// ``RunStoreError`` about `operation`.
    func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RunStoreError) -> T {
        do {
            return try database.write(body)
        } catch {
            throw Self.wrap(error, operation: operation(), path: path, busyTimeout: busyTimeout)
        }
    }

    /// Runs `body` in a read transaction (a consistent snapshot), turning any
    /// error into a ``RunStoreError`` about `operation`.
    ///
    /// A deferred transaction on the queue rather than `DatabaseQueue.read`: that one
    /// brackets each read with `PRAGMA query_only`, and a flag pragma makes SQLite expire
    /// every prepared statement, so each cached statement was compiled again at its next
    /// use — a third of the instructions of a run of 300 cached stages. The bodies here
    /// only read.
    func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(RunStoreError) -> T {
        do {
            return try database.inDatabase { db in
                var result: T?
                try db.inTransaction(.deferred) {
                    result = try body(db)
                    return .commit
                }
                return result!  // set: the transaction committed, so the body ran
            }
        } catch {
            throw Self.wrap(error, operation: operation(), path: path, busyTimeout: busyTimeout)
        }
    }

    /// Turns any error into a ``RunStoreError`` with a remedy.
    ///
    /// A GRDB `DatabaseError` is copied without its statement arguments, which
    /// may hold secrets. Other GRDB errors (row decoding) describe row content,
    /// so they are not kept at all.
    static func wrap(_ error: any Error, operation: String, path: String, busyTimeout: Duration) -> RunStoreError {
        if var error = error as? RunStoreError {
            error.path = error.path ?? path
            return error
        }
        guard let error = error as? DatabaseError else {
            return RunStoreError(
                code: .other, operation: operation, path: path,
                reason: "unexpected \(type(of: error))",
                remedy: "this is a bug in mlpipe; please report it")
        }
        let cause = DatabaseError(resultCode: error.extendedResultCode, message: error.message, sql: error.sql)
        let reason = "\(error.message ?? "SQLite error") (SQLite error \(error.extendedResultCode.rawValue))"
        func make(_ code: RunStoreError.Code, _ remedy: String) -> RunStoreError {
            RunStoreError(code: code, operation: operation, path: path, reason: reason, remedy: remedy, cause: cause)
        }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return make(.busy, "another mlpipe process held the database for more than \(busyTimeout.seconds.shortDecimal) s; "
                + "wait for it to finish and try again")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return make(.cannotOpen, "check that the folder exists and is writable")
        case .SQLITE_READONLY:
            return make(.readOnly, "check that the file and its folder are writable")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return make(.corrupt, "it is not an mlpipe database or it is damaged; move it aside to start a new history")
        case .SQLITE_FULL:
            return make(.diskFull, "free some disk space and try again")
        case .SQLITE_IOERR:
            return make(.io, "check the disk and the folder, then try again")
        default:
            return make(.other, "this is likely a bug in mlpipe; please report it with this message")
        }
    }
}

extension RunStoreError {
    /// Whether SQLite refused a row because a run or stage it names does not exist.
    var isForeignKeyViolation: Bool {
        (cause as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY
    }
}

extension Duration {
    /// The duration in seconds, as GRDB's busy timeout wants it.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Double {
    /// A short decimal form: `10`, `0.5`.
    var shortDecimal: String {
        self == rounded() ? String(Int64(self)) : String(self)
    }
}
