import Foundation

/// What each cache key produced: the index half of the stage cache (the bytes are in
/// the object store).
///
/// The seam between the engine's `StageCache` and where entries live:
/// ``SQLiteRunStore`` (the `cache_entry` table of `workspace/mlpipe.db`),
/// ``InMemoryCacheIndex`` (the engine's unit tests), and `PostgresRunStore`'s shared index. Run history is the ``RunStore``'s, not this.
///
/// Every method is one short transaction and throws ``RunStoreError``; a caller must
/// not turn an error into "no entry": a database that cannot be read is not a miss.
public protocol CacheIndex: Sendable {
    /// The cache entry with that key, or nil.
    func cacheEntry(key: String) async throws(RunStoreError) -> CacheEntry?

    /// Inserts the entry, or replaces the one that has the same key.
    func saveCacheEntry(_ entry: CacheEntry) async throws(RunStoreError)

    /// Sets an entry's `lastUsedAt`, which `mlpipe cache gc` reads to evict the
    /// least recently used first. Does nothing when the key is unknown (another
    /// process may have collected it meanwhile).
    func touchCacheEntry(key: String, at: Date) async throws(RunStoreError)

    /// Every cache entry, most recently used first.
    func cacheEntries() async throws(RunStoreError) -> [CacheEntry]

    /// Deletes the entries with these keys, in one transaction; unknown keys are
    /// ignored.
    func deleteCacheEntries(keys: [String]) async throws(RunStoreError)
}
