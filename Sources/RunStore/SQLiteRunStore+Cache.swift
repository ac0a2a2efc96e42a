import Foundation
internal import GRDB

/// Cache entries: what each cache key produced.
extension SQLiteRunStore {
    /// One read by primary key.
    public func cacheEntry(key: String) throws(RunStoreError) -> CacheEntry? {
        try read("read cache entry \(key)") { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(CacheEntry.columns) FROM cache_entry WHERE key = ?"),
                arguments: [key]
            ).map { row throws(RunStoreError) in try CacheEntry(row: row) }
        }
    }

    /// `INSERT OR REPLACE` by key.
    public func saveCacheEntry(_ entry: CacheEntry) throws(RunStoreError) {
        try write("save cache entry \(entry.key)") { db in
            try db.cachedStatement(sql: CacheEntry.saveSQL).execute(arguments: entry.saveArguments)
        }
    }

    /// One UPDATE by key.
    public func touchCacheEntry(key: String, at: Date) throws(RunStoreError) {
        try write("mark cache entry \(key) used") { db in
            try db.cachedStatement(sql: "UPDATE cache_entry SET last_used_at = ? WHERE key = ?")
                .execute(arguments: [at.timeIntervalSince1970, key])
        }
    }

    /// Reads the whole table, most recently used first.
    public func cacheEntries() throws(RunStoreError) -> [CacheEntry] {
        try read("list cache entries") { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(CacheEntry.columns) FROM cache_entry ORDER BY last_used_at DESC, key")
            ).map { row throws(RunStoreError) in try CacheEntry(row: row) }
        }
    }

    /// One transaction for all keys.
    public func deleteCacheEntries(keys: [String]) throws(RunStoreError) {
        guard !keys.isEmpty else { return }
        try write("delete \(keys.count) cache entries") { db in
            // One cached statement per key, rather than `IN (…)`, which would meet
            // SQLite's limit on bound values for a large gc.
            let delete = try db.cachedStatement(sql: "DELETE FROM cache_entry WHERE key = ?")
            for key in keys {
                try delete.execute(arguments: [key])
            }
        }
    }

    /// Decodes only the `digest` of each output, so that fields added to
    /// ``OutputRecord`` later do not matter.
    public func referencedDigests() throws(RunStoreError) -> Set<String> {
        let rows = try read("list the objects cache entries refer to") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT key, outputs_json FROM cache_entry"))
                .map { row throws(RunStoreError) in
                    let reader = RowReader(row: row, table: "cache_entry", key: "a cache entry")
                    return (key: try reader.value(0, "key", as: String.self),
                            json: try reader.value(1, "outputs_json", as: String.self))
                }
        }
        let decoder = JSONDecoder()
        var digests = Set<String>()
        for (key, json) in rows {
            // Only the digests matter here; other fields may evolve.
            guard let outputs = try? decoder.decode([DigestOnly].self, from: Data(json.utf8)) else {
                throw RunStoreError(
                    code: .invalidRecord, operation: "list the objects cache entries refer to", path: path,
                    reason: "cache entry \(key) has outputs that are not a JSON array of objects with a digest",
                    remedy: "delete that entry (or save it again) so that gc knows what it keeps")
            }
            digests.formUnion(outputs.map(\.digest))
        }
        return digests
    }
}

/// The one field of an output that ``SQLiteRunStore/referencedDigests()`` needs.
private struct DigestOnly: Decodable {
    let digest: String
}
