import Canonical
import ArtifactStore
import Foundation
import PipelineSpec
import RunStore

/// The stage cache: what each cache key produced (the index), the bytes (the object
/// store), and the per-key locks, behind one type.
///
/// It is the one home of "the cache": `run` and `status` ask it the same question
/// (``lookUp(_:)``), a run saves through it, and `cache ls|gc|verify` maintain it. A
/// failure to read the index is an error, never a miss: a database that cannot be read
/// must not make mlpipe recompute (or worse, report) as if nothing were cached.
public struct StageCache: Sendable {
    public let index: any CacheIndex
    public let objects: any ArtifactStore
    public let locks: any KeyLocks

    public init(index: any CacheIndex, objects: any ArtifactStore, locks: any KeyLocks) {
        self.index = index
        self.objects = objects
        self.locks = locks
    }

    /// A usable result for a key: its entry, and the outputs, metrics and results it holds.
    public struct Hit: Sendable {
        public var entry: CacheEntry
        /// As stored: `path` is relative to the stage's folder.
        public var outputs: [OutputRecord]
        public var metrics: Value?
        public var results: [String: Value]
        /// The run that computed it.
        public var runID: Int64 { entry.runID }
    }

    /// What the cache holds for a key.
    public enum LookUp: Sendable {
        case hit(Hit)
        /// No entry for the key.
        case miss
        /// An entry whose objects are not all in the store (collected, or lost): the
        /// stage must run again. The sentence says which.
        case incomplete(runID: Int64, reason: String)
    }

    /// The entry for `key` and whether every object it names is present.
    public func lookUp(_ key: String) async throws(EngineError) -> LookUp {
        let found: CacheEntry?
        do {
            found = try await index.cacheEntry(key: key)
        } catch {
            throw EngineError(.environment, "cannot read the cache index: \(error)", cause: error)
        }
        guard let entry = found else { return .miss }
        let outputs: [OutputRecord]
        do {
            outputs = try entry.outputs()
        } catch {
            return .incomplete(runID: entry.runID, reason: "its cache entry cannot be read (\(error.reason))")
        }
        for output in outputs {
            guard let digest = Digest(parsing: output.digest) else {
                return .incomplete(runID: entry.runID, reason: "its cache entry names the malformed digest '\(output.digest)'")
            }
            guard await objects.contains(digest) else {
                return .incomplete(runID: entry.runID,
                                   reason: "the cached result of run #\(entry.runID) is missing objects from the store")
            }
        }
        return .hit(Hit(entry: entry, outputs: outputs,
                        metrics: entry.metricsJSON.flatMap { Value.fromJSON(Data($0.utf8)) },
                        results: Self.decodeResults(entry.resultsJSON)))
    }

    /// Puts a hit's outputs into a stage's folder, as the new run's own files.
    ///
    /// Throws when an object cannot be materialised (lost or damaged since the look-up);
    /// the caller runs the stage instead.
    public func materialize(_ hit: Hit, declared: [StageOutput], runID: Int64, stage: String,
                            into folder: String) async throws(StoreError) -> [String: OutputRecord] {
        var outputs: [String: OutputRecord] = [:]
        for output in declared {
            guard let stored = hit.outputs.first(where: { $0.name == output.name }),
                  let digest = Digest(parsing: stored.digest) else {
                throw StoreError(.notFound, "the cached result of run #\(hit.runID) has no output '\(output.name)'",
                                 path: folder)
            }
            let path = folder + "/" + output.path
            try await objects.materialize(StoredObject(digest: digest, kind: ObjectKind(rawValue: stored.kind) ?? .file,
                                                       size: stored.size), at: path)
            outputs[output.name] = OutputRecord(runID: runID, stage: stage, name: output.name, digest: stored.digest,
                                                kind: stored.kind, size: stored.size, path: path)
        }
        return outputs
    }

    /// Stores each declared output that a stage wrote into its folder.
    public func storeOutputs(_ declared: [StageOutput], runID: Int64, stage: String,
                             folder: String) async throws(StoreError) -> [String: OutputRecord] {
        var outputs: [String: OutputRecord] = [:]
        for output in declared {
            let path = folder + "/" + output.path
            let object = try await objects.store(path: path)
            outputs[output.name] = OutputRecord(runID: runID, stage: stage, name: output.name,
                                                digest: object.digest.description, kind: object.kind.rawValue,
                                                size: object.size, path: path)
        }
        return outputs
    }

    /// Records what `key` produced. Objects must already be stored.
    public func save(key: String, pipeline: String, stage: String, runID: Int64, declared: [StageOutput],
                     outputs: [String: OutputRecord], metricsJSON: String?,
                     results: [String: Value]) async throws(EngineError) {
        let stored = declared.compactMap { output -> OutputRecord? in
            guard var record = outputs[output.name] else { return nil }
            record.path = output.path
            return record
        }
        do {
            let entry = CacheEntry(key: key, pipeline: pipeline, stage: stage, runID: runID,
                                   outputsJSON: try CacheEntry.encodeOutputs(stored), metricsJSON: metricsJSON,
                                   resultsJSON: Self.encodeResults(results), createdAt: Date())
            try await index.saveCacheEntry(entry)
        } catch {
            throw EngineError(.environment, "cannot save the cache entry of stage '\(stage)': \(error)", cause: error)
        }
    }

    /// Marks an entry used now, so that gc keeps it longer.
    /// How stale an entry's "last used" may get before a hit records the new time: a
    /// write transaction per cached stage was the larger part of a no-op run of many
    /// stages, and `cache gc` counts in days.
    public static let touchInterval: TimeInterval = 600

    public func touch(_ key: String) async throws(EngineError) {
        do {
            try await index.touchCacheEntry(key: key, at: Date())
        } catch {
            throw EngineError(.environment, "cannot mark the cache entry \(key) used: \(error)", cause: error)
        }
    }

    /// Waits for and holds the lock on `key`.
    public func lock(_ key: String) async throws -> KeyLease {
        try await locks.acquire(key)
    }

    /// Results as the canonical JSON an entry and a stage record keep; nil when empty.
    static func encodeResults(_ results: [String: Value]) -> String? {
        results.isEmpty ? nil : Value.object(results).canonicalJSON()
    }

    /// The results an entry or a stage record keeps.
    static func decodeResults(_ json: String?) -> [String: Value] {
        guard let json, case .object(let fields)? = Value.fromJSON(Data(json.utf8)) else { return [:] }
        return fields
    }
}
