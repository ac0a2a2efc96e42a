import Foundation
import PostgresNIO
import RunStore

/// Exclusive locks on names (cache keys) that hold across every machine using one
/// database: PostgreSQL's session-level advisory locks.
///
/// Each held lock has a connection of its own, opened by ``lock(_:)`` and closed by
/// ``PostgresAdvisoryLock/release()``: the server releases a session's advisory locks
/// when its connection ends, so a runner that dies (or loses its network) never leaves
/// a key locked. A name is locked through its 64-bit hash on the server
/// (`hashtextextended(name, 0)`), so every client agrees on it; two names that collide
/// only wait for each other.
///
/// Waiting polls `pg_try_advisory_lock` with a growing pause (up to 100 ms) rather than
/// blocking in `pg_advisory_lock`: a blocked backend would not notice that a cancelled
/// waiter went away, and would take the lock for nobody. So a wait stays cancellable.
public struct PostgresAdvisoryLocks: Sendable {
    let location: PostgresLocation
    let logger: Logger

    /// Waits until `name` is free, then holds it until the returned lock is released.
    /// Throws `CancellationError` when the task is cancelled while waiting, and
    /// ``RunStoreError`` when the server cannot be reached.
    public func lock(_ name: String) async throws -> PostgresAdvisoryLock {
        let operation = "lock \(name)"
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnectionPool.connect(location, id: 0, logger: logger)
        } catch {
            // A wait cancelled while connecting is a cancellation, not a store failure.
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            throw PostgresRunStore.wrap(error, operation: operation, location: location)
        }
        var pause = Duration.milliseconds(2)
        while true {
            let taken: Bool
            do {
                let rows = try await connection.query(
                    "SELECT pg_try_advisory_lock(hashtextextended(\(name), 0))", logger: logger).collect()
                taken = try rows.first?.decode(Bool.self) ?? false
            } catch {
                // Closing the connection frees the lock, should the server have granted it.
                connection.closeSoon()
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                throw PostgresRunStore.wrap(error, operation: operation, location: location)
            }
            if taken { return PostgresAdvisoryLock(name: name, connection: connection) }
            do {
                try await Task.sleep(for: pause)
            } catch {
                connection.closeSoon()
                throw error
            }
            pause = min(pause * 2, .milliseconds(100))
        }
    }
}

/// A held advisory lock; released once, by ``release()`` or when deallocated.
public final class PostgresAdvisoryLock: Sendable {
    /// The name it locks.
    public let name: String
    private let connection: PostgresConnection

    init(name: String, connection: PostgresConnection) {
        self.name = name
        self.connection = connection
    }

    deinit { release() }

    /// Releases the lock by closing its connection; the server frees the lock as soon as
    /// it reads the close. Releasing twice does nothing more.
    public func release() {
        if !connection.isClosed { connection.closeSoon() }
    }
}
