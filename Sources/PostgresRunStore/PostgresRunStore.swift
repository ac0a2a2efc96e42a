import Foundation
import PostgresNIO
import RunStore
import Synchronization

/// The run history, cache index and key locks on a PostgreSQL server, shared by every
/// runner and engineer that points `MLPIPE_STORE` at it.
///
/// It keeps the contracts of ``RunStore`` and ``CacheIndex`` as `SQLiteRunStore` does, on
/// the same tables and columns (see ``PostgresSchema``), with three differences that come
/// from many machines sharing one database:
/// - run ids come from one sequence, so they are unique across machines;
/// - a run is alive while its runner renews its lease (`run.lease_until`) every
///   ``heartbeatPeriod``; ``markInterruptedRuns(host:isAlive:)`` marks `interrupted` the
///   runs, of any host, whose lease expired, since a pid means nothing on another machine;
/// - the per-key compute lock is a PostgreSQL advisory lock (``advisoryLocks``), held on
///   a connection of its own, so that two runners never compute one stage at once.
///
/// Every method is one statement or one transaction on a connection from a small pool.
/// Values are always bound, never spliced into SQL, and an error never carries them:
/// its description holds the server's message and SQLSTATE, not the statement's values
/// (which may hold secrets), and names the store by its URL without the password.
public final class PostgresRunStore: RunStore, CacheIndex {
    /// The server and database, as given to ``open(_:heartbeatPeriod:leaseDuration:)``.
    public let location: PostgresLocation
    /// How often a running run's lease is renewed.
    public let heartbeatPeriod: Duration
    /// How long a lease lasts from its last renewal: a run whose runner has not renewed
    /// it for this long is taken for dead.
    public let leaseDuration: Duration
    let pool: PostgresConnectionPool
    let logger: Logger
    /// The heartbeat of each running run this store created, by run id.
    let heartbeats = Mutex<[Int64: Task<Void, Never>]>([:])
    /// Runs this store created with ``createRun(_:stages:)``: never keyed, so their stages
    /// are recorded in one statement each, without the keyed run's row lock.
    let unkeyedRuns = Mutex<Set<Int64>>([])

    /// The server's clock, in seconds since 1970: leases are set and compared on one
    /// clock, whatever the runners' clocks say.
    static let serverNow = "EXTRACT(EPOCH FROM clock_timestamp())::double precision"

    /// A store whose database is not yet migrated: ``open(_:heartbeatPeriod:leaseDuration:)``
    /// migrates it; ``PostgresModelRegistry`` migrates it on its first call.
    init(location: PostgresLocation, heartbeatPeriod: Duration = .seconds(5), leaseDuration: Duration = .seconds(30)) {
        self.location = location
        self.heartbeatPeriod = heartbeatPeriod
        self.leaseDuration = leaseDuration
        var logger = Logger(label: "mlpipe.PostgresRunStore")
        // The driver logs at debug and trace; mlpipe reports errors itself.
        logger.logLevel = .critical
        self.logger = logger
        self.pool = PostgresConnectionPool(location: location, logger: logger)
    }

    deinit {
        for task in heartbeats.withLock({ $0.values }) { task.cancel() }
    }

    /// Connects to `location` and brings its database to the current schema.
    ///
    /// - Parameters:
    ///   - heartbeatPeriod: How often a running run's lease is renewed (default 5 s).
    ///   - leaseDuration: How long a lease lasts (default 30 s): a runner that died is
    ///     found `interrupted` by the first command run after its lease ran out.
    public static func open(_ location: PostgresLocation, heartbeatPeriod: Duration = .seconds(5),
                            leaseDuration: Duration = .seconds(30)) async throws(RunStoreError) -> PostgresRunStore {
        let store = PostgresRunStore(location: location, heartbeatPeriod: heartbeatPeriod, leaseDuration: leaseDuration)
        try await store.migrate()
        return store
    }

    /// The advisory locks of this database, one connection per held lock.
    public var advisoryLocks: PostgresAdvisoryLocks { PostgresAdvisoryLocks(location: location, logger: logger) }

    // MARK: - Access

    /// Runs `body` on a pooled connection, in a transaction when `transaction` is set
    /// (rolled back when `body` throws), turning any error into a ``RunStoreError`` about
    /// `operation`.
    func access<T: Sendable>(_ operation: String, transaction: Bool = false,
                             _ body: (PostgresConnection) async throws -> T) async throws(RunStoreError) -> T {
        let connection: PostgresConnection
        do {
            connection = try await pool.take()
        } catch {
            throw wrap(error, operation: operation)
        }
        do {
            if transaction { try await execute("BEGIN", on: connection) }
            let result = try await body(connection)
            if transaction { try await execute("COMMIT", on: connection) }
            await pool.give(back: connection)
            return result
        } catch {
            if transaction && !connection.isClosed {
                do {
                    try await execute("ROLLBACK", on: connection)
                } catch {
                    // The connection is unusable; it is closed below instead of reused.
                    connection.closeSoon()
                }
            }
            await pool.give(back: connection)
            throw wrap(error, operation: operation)
        }
    }

    /// The rows `query` returns, on `connection`.
    func rows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// Runs `query` on `connection` and reads its result to the end.
    func execute(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
        _ = try await rows(query, on: connection)
    }

    /// Turns any error into a ``RunStoreError`` with a remedy.
    ///
    /// Of a server error it keeps the message and SQLSTATE, never the detail (which
    /// quotes the values of a violated key) nor the statement's values.
    func wrap(_ error: any Error, operation: String) -> RunStoreError {
        Self.wrap(error, operation: operation, location: location)
    }

    static func wrap(_ error: any Error, operation: String, location: PostgresLocation) -> RunStoreError {
        if let error = error as? RunStoreError { return error }
        let path = location.redacted
        if error is PostgresDecodingError {
            return RunStoreError(code: .invalidRecord, operation: operation, path: path,
                                 reason: "a column holds a value of an unexpected type",
                                 remedy: "the database was edited by hand or by another tool; restore it")
        }
        guard let error = error as? PSQLError else {
            return RunStoreError(code: .other, operation: operation, path: path, reason: "unexpected \(type(of: error))",
                                 remedy: "this is a bug in mlpipe; please report it")
        }
        guard error.code == .server, let info = error.serverInfo else {
            return connectionError(error, operation: operation, location: location)
        }
        let state = info[.sqlState] ?? "?"
        let cause = PostgresServerError(sqlState: state, message: info[.message] ?? "PostgreSQL error")
        func make(_ code: RunStoreError.Code, _ remedy: String) -> RunStoreError {
            RunStoreError(code: code, operation: operation, path: path, reason: cause.description, remedy: remedy, cause: cause)
        }
        switch state {
        case "28000", "28P01":
            return make(.cannotOpen, "check the user, and the password in the URL or in PGPASSWORD")
        case "3D000":
            return make(.cannotOpen, "create the database first (`createdb \(location.database)`) or name one that exists")
        case "40001", "40P01", "55P03", "57014":
            return make(.busy, "another runner held the rows too long; try again")
        case "25006":
            return make(.readOnly, "the server is read-only (a standby?); point the URL at the primary")
        case "53100":
            return make(.diskFull, "free some disk space on the database server and try again")
        case "42501":
            return make(.cannotOpen, "grant the user the rights to create and write tables in database \(location.database)")
        default:
            return make(.other, "this is likely a bug in mlpipe; please report it with this message")
        }
    }

    /// A connection that could not be made or was lost.
    static func connectionError(_ error: PSQLError, operation: String, location: PostgresLocation) -> RunStoreError {
        var reason = "\(error.code)"
        if let underlying = error.underlying {
            // A socket or TLS error ("connection refused"): it holds no value of ours.
            reason += " (\(underlying))"
        }
        return RunStoreError(
            code: .cannotOpen, operation: operation, path: location.redacted, reason: reason,
            remedy: "check that PostgreSQL is running at \(location.host):\(location.port) and accepts connections from here")
    }
}

/// What a server error keeps: its SQLSTATE and message, never the statement's values.
public struct PostgresServerError: Error, Sendable, CustomStringConvertible {
    /// The five-character SQLSTATE, e.g. `23503` (foreign key violation).
    public let sqlState: String
    /// The server's primary message, e.g. `relation "run" does not exist`.
    public let message: String

    /// `MESSAGE (SQLSTATE 23503)`.
    public var description: String { "\(message) (SQLSTATE \(sqlState))" }
}

extension RunStoreError {
    /// The SQLSTATE of the server error behind this one, if any.
    var sqlState: String? { (cause as? PostgresServerError)?.sqlState }
}
