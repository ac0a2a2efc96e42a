#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Content-addressed objects held in memory: the second implementation of
/// ``ArtifactStore``, which the engine's unit tests run against.
///
/// It keeps the local store's contracts — a folder is stored as its files plus a
/// canonical manifest with the same digest, materialising replaces what was at the
/// destination, garbage collection refuses while a lease is held — and adds hooks a
/// test needs: ``remove(_:)`` (an object lost behind the index's back) and
/// ``corrupt(_:)`` (bytes that no longer match their digest).
public final class InMemoryArtifactStore: ArtifactStore {
    struct State {
        var objects: [Digest: [UInt8]] = [:]
        var leases = 0
        /// True while a collection holds the store; leases wait for it to end.
        var collecting = false
    }

    private let state = Mutex(State())

    /// An empty store.
    public init() {}

    /// Forgets an object, as a manual deletion would.
    public func remove(_ digest: Digest) {
        state.withLock { _ = $0.objects.removeValue(forKey: digest) }
    }

    /// Changes an object's bytes without changing its name.
    public func corrupt(_ digest: Digest) {
        state.withLock { $0.objects[digest]?.append(0x0A) }
    }

    /// Whether a garbage collection holds the store now.
    public var isCollecting: Bool { state.withLock { $0.collecting } }

    /// How many leases are held now.
    public var activeLeases: Int { state.withLock { $0.leases } }

    public func store(path: String) throws(StoreError) -> StoredObject {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StoreError.system("store", path) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            var entries: [TreeManifest.Entry] = []
            for file in try FileSystem.listFiles(in: path) {
                let bytes = try FileSystem.readAll(path + "/" + file.path)
                let digest = put(bytes)
                entries.append(TreeManifest.Entry(digest: digest, executable: file.executable, path: file.path,
                                                  size: Int64(bytes.count)))
            }
            let manifest = TreeManifest(entries: entries)
            return StoredObject(digest: put(manifest.encoded()), kind: .tree, size: manifest.totalSize)
        }
        let bytes = try FileSystem.readAll(path)
        return StoredObject(digest: put(bytes), kind: .file, size: Int64(bytes.count))
    }

    private func put(_ bytes: [UInt8]) -> Digest {
        let digest = SHA256Hasher.digest(of: bytes)
        state.withLock { $0.objects[digest] = $0.objects[digest] ?? bytes }
        return digest
    }

    /// The bytes of `digest`, never wrong ones: an object whose bytes no longer
    /// match (see ``corrupt(_:)``) is removed and reported, as the local store does.
    private func bytes(_ digest: Digest) throws(StoreError) -> [UInt8] {
        guard let bytes = state.withLock({ $0.objects[digest] }) else {
            throw StoreError(.notFound, "object \(digest) is not in the in-memory store; re-run the stage that makes it",
                             path: digest.description)
        }
        let actual = SHA256Hasher.digest(of: bytes)
        guard actual == digest else {
            remove(digest)
            throw StoreError(.corrupt, "object \(digest) was changed after it was stored (its content now has digest \(actual)); it was removed from the store, so the stage that made it runs again",
                             path: digest.description)
        }
        return bytes
    }

    public func check(_ object: StoredObject) throws(StoreError) -> Bool {
        do throws(StoreError) {
            let found = try bytes(object.digest)
            guard object.kind == .tree else { return true }
            guard let manifest = TreeManifest.decode(found) else {
                throw StoreError(.corrupt, "object \(object.digest) is not a tree manifest", path: object.digest.description)
            }
            var intact = true
            for entry in manifest.entries where !(try check(StoredObject(digest: entry.digest, kind: .file, size: entry.size))) {
                intact = false
            }
            return intact
        } catch where error.code == .corrupt {
            return false
        }
    }

    public func materialize(_ object: StoredObject, at destination: String) throws(StoreError) {
        FileSystem.removeTree(destination)
        let parent = FileSystem.parentFolder(of: destination)
        if !parent.isEmpty { try FileSystem.makeDirectories(parent) }
        switch object.kind {
        case .file:
            try FileSystem.writeAll(try bytes(object.digest), to: destination, mode: 0o644)
        case .tree:
            guard let manifest = TreeManifest.decode(try bytes(object.digest)) else {
                throw StoreError(.corrupt, "object \(object.digest) is not a tree manifest", path: destination)
            }
            try FileSystem.makeDirectories(destination)
            for entry in manifest.entries {
                let file = destination + "/" + entry.path
                try FileSystem.makeDirectories(FileSystem.parentFolder(of: file))
                try FileSystem.writeAll(try bytes(entry.digest), to: file, mode: entry.executable ? 0o755 : 0o644)
            }
        }
    }

    public func contains(_ digest: Digest) -> Bool {
        state.withLock { $0.objects[digest] != nil }
    }

    public func objects() -> [ObjectInfo] {
        state.withLock { s in
            s.objects.map { ObjectInfo(digest: $0.key, size: Int64($0.value.count), modified: Date(timeIntervalSince1970: 0)) }
                .sorted { $0.digest < $1.digest }
        }
    }

    public func verify() -> [VerifyProblem] {
        state.withLock { s in
            s.objects.compactMap { digest, bytes -> VerifyProblem? in
                let actual = SHA256Hasher.digest(of: bytes)
                return actual == digest ? nil
                    : VerifyProblem(digest: digest, actual: actual, message: "object \(digest) has content with digest \(actual)")
            }.sorted { $0.digest < $1.digest }
        }
    }

    public func collectGarbage(deciding: @Sendable () async throws -> Set<Digest>) async throws -> GCReport {
        try state.withLock { (s: inout State) throws(StoreError) in
            guard s.leases == 0, !s.collecting else {
                throw StoreError(.locked, "the in-memory store is in use by a run (it holds a lease); retry when no run is active",
                                 path: "memory")
            }
            s.collecting = true
        }
        defer { state.withLock { $0.collecting = false } }
        let keeping = try await deciding()
        return state.withLock { (s: inout State) -> GCReport in
            var kept = keeping
            for digest in keeping {
                if let bytes = s.objects[digest], bytes.first == UInt8(ascii: "["), let manifest = TreeManifest.decode(bytes) {
                    kept.formUnion(manifest.entries.map(\.digest))
                }
            }
            var removed = 0
            var freed: Int64 = 0
            for (digest, bytes) in s.objects where !kept.contains(digest) {
                s.objects[digest] = nil
                removed += 1
                freed += Int64(bytes.count)
            }
            return GCReport(removed: removed, freedBytes: freed, kept: s.objects.count)
        }
    }

    /// Waits while a collection runs, as the local store's shared flock does.
    public func lease() async throws(StoreError) -> StoreLease {
        while !state.withLock({ s -> Bool in
            guard !s.collecting else { return false }
            s.leases += 1
            return true
        }) {
            do {
                try await Task.sleep(nanoseconds: 1_000_000)
            } catch {
                throw StoreError(.locked, "cancelled while waiting for a garbage collection to end", path: "memory")
            }
        }
        return StoreLease(onRelease: { [self] in state.withLock { $0.leases -= 1 } })
    }
}
