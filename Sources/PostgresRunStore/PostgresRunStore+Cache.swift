import Foundation
import PostgresNIO
import RunStore

/// Cache entries: what each cache key produced, shared by every runner of the team.
extension PostgresRunStore {
    /// One read by primary key.
    public func cacheEntry(key: String) async throws(RunStoreError) -> CacheEntry? {
        let query: PostgresQuery = "SELECT \(unescaped: CacheEntry.columns) FROM cache_entry WHERE key = \(key)"
        let found = try await access("read cache entry \(key)") { try await rows(query, on: $0) }
        return try found.first.map { row throws(RunStoreError) in try PostgresRecords.cacheEntry(row) }
    }

    /// An upsert by key: the last writer's entry stands, as with SQLite's `INSERT OR REPLACE`.
    public func saveCacheEntry(_ entry: CacheEntry) async throws(RunStoreError) {
        let query: PostgresQuery = """
            INSERT INTO cache_entry (\(unescaped: CacheEntry.columns)) VALUES (\(entry.key), \(entry.pipeline), \
            \(entry.stage), \(entry.runID), \(entry.createdAt.timeIntervalSince1970), \
            \(entry.lastUsedAt.timeIntervalSince1970), \(entry.metricsJSON), \(entry.outputsJSON), \(entry.resultsJSON))
            ON CONFLICT (key) DO UPDATE SET
                pipeline = excluded.pipeline, stage = excluded.stage, run_id = excluded.run_id,
                created_at = excluded.created_at, last_used_at = excluded.last_used_at,
                metrics_json = excluded.metrics_json, outputs_json = excluded.outputs_json,
                results_json = excluded.results_json
            """
        try await access("save cache entry \(entry.key)") { try await execute(query, on: $0) }
    }

    /// One UPDATE by key; an unknown key changes nothing.
    public func touchCacheEntry(key: String, at: Date) async throws(RunStoreError) {
        let query: PostgresQuery = "UPDATE cache_entry SET last_used_at = \(at.timeIntervalSince1970) WHERE key = \(key)"
        try await access("mark cache entry \(key) used") { try await execute(query, on: $0) }
    }

    /// The whole table, most recently used first.
    public func cacheEntries() async throws(RunStoreError) -> [CacheEntry] {
        let query: PostgresQuery = "SELECT \(unescaped: CacheEntry.columns) FROM cache_entry ORDER BY last_used_at DESC, key"
        let found = try await access("list cache entries") { try await rows(query, on: $0) }
        return try found.map { row throws(RunStoreError) in try PostgresRecords.cacheEntry(row) }
    }

    /// One DELETE for all keys, bound as one array.
    public func deleteCacheEntries(keys: [String]) async throws(RunStoreError) {
        guard !keys.isEmpty else { return }
        let query: PostgresQuery = "DELETE FROM cache_entry WHERE key = ANY(\(keys))"
        try await access("delete \(keys.count) cache entries") { try await execute(query, on: $0) }
    }
}
