import ArtifactStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RunStore

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
    public var bytesFreed: Int64
}

/// `mlpipe cache ls|gc|verify`.
public struct CacheMaintenance: Sendable {
    let session: Session

    public static func open(_ options: RunOptions) throws(EngineError) -> CacheMaintenance {
        CacheMaintenance(session: try Session.open(options, kinds: KindRegistry()))
    }

    public func list() throws(EngineError) -> [CacheListing] {
        let entries: [CacheEntry]
        do { entries = try session.runStore.cacheEntries() } catch { throw EngineError(.environment, "\(error)", cause: error) }
        return entries.map { entry in
            let outputs = decodeOutputs(entry.outputsJSON) ?? []
            let complete = outputs.allSatisfy { Digest(parsing: $0.digest).map(session.artifacts.contains) ?? false }
            return CacheListing(key: entry.key, pipeline: entry.pipeline, stage: entry.stage, runID: entry.runID,
                                size: outputs.reduce(0) { $0 + $1.size }, outputs: outputs.map(\.name),
                                createdAt: entry.createdAt, lastUsedAt: entry.lastUsedAt, complete: complete)
        }.sorted { ($0.pipeline, $0.stage, $1.lastUsedAt) < ($1.pipeline, $1.stage, $0.lastUsedAt) }
    }

    /// Keeps, for every pipeline and stage, its most recently used entry and every entry
    /// used within `keepDays`; removes the other entries, then every object no kept entry
    /// needs. Refuses while a run holds the store (a run in progress may still need any
    /// object, even one no entry names yet).
    public func collectGarbage(keepDays: Double) throws(EngineError) -> GarbageReport {
        let entries: [CacheEntry]
        do { entries = try session.runStore.cacheEntries() } catch { throw EngineError(.environment, "\(error)", cause: error) }
        let cutoff = Date().addingTimeInterval(-keepDays * 86_400)
        var newest: [String: CacheEntry] = [:]
        for entry in entries {
            let id = entry.pipeline + "\u{0}" + entry.stage
            if let current = newest[id], current.lastUsedAt >= entry.lastUsedAt { continue }
            newest[id] = entry
        }
        let newestKeys = Set(newest.values.map(\.key))
        let kept = entries.filter { newestKeys.contains($0.key) || $0.lastUsedAt >= cutoff }
        let keptKeys = Set(kept.map(\.key))
        var digests = Set<Digest>()
        for entry in kept {
            for output in decodeOutputs(entry.outputsJSON) ?? [] {
                if let digest = Digest(parsing: output.digest) { digests.insert(digest) }
            }
        }
        let report: GCReport
        do {
            report = try session.artifacts.collectGarbage(keeping: digests)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        let removed = entries.map(\.key).filter { !keptKeys.contains($0) }
        do { try session.runStore.deleteCacheEntries(keys: removed) } catch { throw EngineError(.environment, "\(error)", cause: error) }
        removeIdleLocks()
        return GarbageReport(entriesRemoved: removed.count, entriesKept: kept.count,
                             objectsRemoved: report.removed, bytesFreed: report.freedBytes)
    }

    /// Re-hashes every object; returns those whose content does not match their name.
    public func verify() throws(EngineError) -> [VerifyProblem] {
        do { return try session.artifacts.verify() } catch { throw EngineError(.environment, "\(error)", cause: error) }
    }

    /// Deletes key lock files nobody holds.
    func removeIdleLocks() {
        let dir = session.workspace.locksPath
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".lock") {
            let path = dir + "/" + name
            let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            close(fd)
        }
    }
}
