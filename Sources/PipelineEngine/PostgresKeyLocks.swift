import PostgresRunStore

/// Key locks that hold across machines: a PostgreSQL advisory lock per cache key, on the
/// run store's database, so that two runners on different machines never compute one
/// stage at once. What ``Backends`` gives a `postgresql://` store.
///
/// Each held key has a connection of its own for the stage's lifetime; the server frees
/// the lock when the lease is released or the runner dies (its connection ends).
struct PostgresKeyLocks: KeyLocks {
    let locks: PostgresAdvisoryLocks

    func acquire(_ key: String) async throws -> KeyLease {
        let held: PostgresAdvisoryLock
        do {
            held = try await locks.lock(key)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw EngineError(.environment, "cannot lock cache key \(key): \(error)", cause: error as? any Error & Sendable)
        }
        return KeyLease { held.release() }
    }

    /// Nothing is left behind: a lock lives only as long as its connection.
    func removeIdle() throws(EngineError) {}
}
