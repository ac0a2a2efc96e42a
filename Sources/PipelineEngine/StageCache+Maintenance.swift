import Canonical
import ArtifactStore
import Foundation
import RunStore
import Synchronization

/// One cache entry as `cache ls` shows it.
public struct CacheListing: Sendable {
    public var key: String
    public var pipeline: String
    public var stage: String
    public var runID: Int64
    public var size: Int64
    public var outputs: [String]
    public var createdAt: Date
    public var lastUsedAt: Date
    /// False when an object it needs is gone from the store.
    public var complete: Bool
}

/// What `cache gc` did.
public struct GarbageReport: Sendable {
    public var entriesRemoved: Int
    public var entriesKept: Int
    public var objectsRemoved: Int
    /// Disk space the removal gave back (blocks whose last link went).
    public var bytesFreed: Int64
    /// Removed objects whose bytes stay on disk because a run folder still links them,
    /// and how much they hold, until `mlpipe runs prune` removes those folders.
    public var objectsHeld: Int = 0
    public var bytesHeld: Int64 = 0
}

/// `mlpipe cache ls|gc|verify`.
extension StageCache {
    /// Every entry, by pipeline and stage, newest use first.
    public func list() async throws(EngineError) -> [CacheListing] {
        let entries = try await allEntries()
        var listings: [CacheListing] = []
        for entry in entries {
            let outputs: [OutputRecord]
            do { outputs = try entry.outputs() } catch { throw EngineError(.environment, "\(error)", cause: error) }
            var complete = true
            for output in outputs {
                guard let digest = Digest(parsing: output.digest), await objects.contains(digest) else {
                    complete = false
                    break
                }
            }
            listings.append(CacheListing(key: entry.key, pipeline: entry.pipeline, stage: entry.stage, runID: entry.runID,
                                         size: outputs.reduce(0) { $0 + $1.size }, outputs: outputs.map(\.name),
                                         createdAt: entry.createdAt, lastUsedAt: entry.lastUsedAt, complete: complete))
        }
        return listings.sorted { ($0.pipeline, $0.stage, $1.lastUsedAt) < ($1.pipeline, $1.stage, $0.lastUsedAt) }
    }

    /// Keeps, for every pipeline and stage, its most recently used entry and every entry
    /// used within `keepDays`; removes the other entries, then every object no kept entry
    /// needs.
    ///
    /// The store is taken exclusively *before* the entries are read, and refuses while a
    /// run holds a lease: a run that finished between reading the entries and deleting
    /// objects would otherwise lose the objects of the entry it just saved. An entry
    /// whose outputs cannot be read stops the collection (it cannot say what it keeps).
    public func collectGarbage(keepDays: Double) async throws(EngineError) -> GarbageReport {
        let cutoff = Date().addingTimeInterval(-keepDays * 86_400)
        let decision = Decision()
        let report: GCReport
        do {
            report = try await objects.collectGarbage { () async throws -> Set<Digest> in
                let entries = try await index.cacheEntries()
                var newest: [String: CacheEntry] = [:]
                for entry in entries {
                    let id = entry.pipeline + "\u{0}" + entry.stage
                    if let current = newest[id], current.lastUsedAt >= entry.lastUsedAt { continue }
                    newest[id] = entry
                }
                let newestKeys = Set(newest.values.map(\.key))
                let kept = entries.filter { newestKeys.contains($0.key) || $0.lastUsedAt >= cutoff }
                var digests = Set<Digest>()
                for entry in kept {
                    for output in try entry.outputs() {
                        guard let digest = Digest(parsing: output.digest) else {
                            throw EngineError(.environment,
                                "cache entry \(entry.key) names the malformed digest '\(output.digest)'; nothing was collected")
                        }
                        digests.insert(digest)
                    }
                }
                let keptKeys = Set(kept.map(\.key))
                let removed = entries.map(\.key).filter { !keptKeys.contains($0) }
                // Entries go before their objects: an entry never outlives what it names.
                try await index.deleteCacheEntries(keys: removed)
                decision.record(removed: removed.count, kept: kept.count)
                return digests
            }
        } catch let error as EngineError {
            throw error
        } catch let error as StoreError {
            throw EngineError(.environment, "\(error)", cause: error)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error as? any Error & Sendable)
        }
        try locks.removeIdle()
        let counts = decision.counts
        return GarbageReport(entriesRemoved: counts.removed, entriesKept: counts.kept,
                             objectsRemoved: report.removed, bytesFreed: report.freedBytes,
                             objectsHeld: report.heldObjects, bytesHeld: report.heldBytes)
    }

    /// Re-hashes every object; returns those whose content does not match their name.
    public func verify() async throws(EngineError) -> [VerifyProblem] {
        do { return try await objects.verify() } catch { throw EngineError(.environment, "\(error)", cause: error) }
    }

    private func allEntries() async throws(EngineError) -> [CacheEntry] {
        do { return try await index.cacheEntries() } catch { throw EngineError(.environment, "\(error)", cause: error) }
    }

    /// The entry counts gc decided on inside the store's lock.
    private final class Decision: Sendable {
        private let state = Mutex((removed: 0, kept: 0))
        func record(removed: Int, kept: Int) { state.withLock { $0 = (removed, kept) } }
        var counts: (removed: Int, kept: Int) { state.withLock { $0 } }
    }
}

extension StageCache {
    /// The cache of the workspace `options` name, for `mlpipe cache ls|gc|verify`.
    public static func open(_ options: RunOptions) async throws(EngineError) -> StageCache {
        try await Session.open(options).cache
    }
}
