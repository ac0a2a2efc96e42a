#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

extension LocalArtifactStore {
    /// Manifests are small; a larger object is never read to see whether it is one.
    static let largestManifest: Int64 = 64 << 20

    /// How old a temporary file must be before garbage collection deletes it:
    /// old enough that no live writer still owns it.
    static let temporaryFileAge: TimeInterval = 3600

    /// Re-hashes every object, and checks that every tree's files are present.
    ///
    /// An object that cannot be read, or whose presence cannot be told, is reported
    /// as such, never as absent or intact.
    public func verify() throws(StoreError) -> [VerifyProblem] {
        var problems: [VerifyProblem] = []
        var manifests: [(Digest, TreeManifest)] = []
        try forEachObject { digest, path, info throws(StoreError) in
            let actual: Digest
            let manifest: TreeManifest?
            do {
                actual = try FileDigest.sha256(path: path).digest
                manifest = actual == digest ? try manifestIfTree(path, info) : nil
            } catch {
                problems.append(VerifyProblem(digest: digest, actual: nil,
                                              message: "object \(digest) cannot be read: \(error); fix its permissions, or delete it and re-run the stage that made it"))
                return
            }
            if actual != digest {
                problems.append(VerifyProblem(digest: digest, actual: actual,
                                              message: "object \(digest) has content with digest \(actual): it was modified or damaged after it was stored; delete it (`rm '\(path)'`) and re-run the stage that made it"))
                return
            }
            if let manifest { manifests.append((digest, manifest)) }
        }
        for (digest, manifest) in manifests {
            for entry in manifest.entries {
                let present: Bool
                do {
                    present = try isPresent(entry.digest)
                } catch {
                    problems.append(VerifyProblem(digest: digest, actual: nil,
                                                  message: "tree \(digest) lists '\(entry.path)' as \(entry.digest), which cannot be looked up: \(error)"))
                    continue
                }
                if !present {
                    problems.append(VerifyProblem(digest: digest, actual: nil,
                                                  message: "tree \(digest) lists '\(entry.path)' as \(entry.digest), which is missing from the store; re-run the stage that made the tree"))
                }
            }
        }
        return problems.sorted { ($0.digest, $0.message) < ($1.digest, $1.message) }
    }

    /// Deletes every object that neither `keeping` nor a kept tree names, and
    /// temporary files older than an hour, counting the disk space that really comes
    /// back (see ``GCReport``).
    ///
    /// Takes the store's lock exclusively, waiting no more than a second: while any
    /// lease is held (a run is active) it throws ``StoreError/Code/locked`` and
    /// deletes nothing.
    /// It also deletes nothing when a kept object cannot be read: if that object is a
    /// tree, the files it needs are not known, and deleting them would break it.
    public func collectGarbage(keeping: Set<Digest>) throws(StoreError) -> GCReport {
        let fd = try lockDescriptor(exclusive: true, wait: false, grace: Self.exclusiveGrace)
        defer { close(fd) }
        return try sweep(keeping: keeping)
    }

    public func collectGarbage(deciding: @Sendable () async throws -> Set<Digest>) async throws -> GCReport {
        let fd = try lockDescriptor(exclusive: true, wait: false, grace: Self.exclusiveGrace)
        defer { close(fd) }
        return try sweep(keeping: try await deciding())
    }

    /// Deletes what `keeping` does not keep; the caller holds the exclusive lock.
    private func sweep(keeping: Set<Digest>) throws(StoreError) -> GCReport {
        var kept = keeping
        for digest in keeping {
            var info = stat()
            let path = path(of: digest)
            guard lstat(path, &info) == 0 else {
                if errno == ENOENT { continue }   // nothing of it to keep
                throw unreadableKept(digest, StoreError.system("read", path))
            }
            let manifest: TreeManifest?
            do {
                manifest = try manifestIfTree(path, info)
            } catch {
                throw unreadableKept(digest, error)
            }
            for entry in manifest?.entries ?? [] { kept.insert(entry.digest) }
        }

        var ledger = LinkLedger()
        // Stale temporary files first: one that cannot be removed stops the collection
        // before any object is gone.
        var temporaries = 0
        let cutoff = Date().timeIntervalSince1970 - LocalArtifactStore.temporaryFileAge
        for name in try FileSystem.names(in: temporaryFolder) {
            let path = temporaryFolder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, Double(ObjectStat.time(info).tv_sec) < cutoff else { continue }
            try SpaceReclaimer.remove(path, into: &ledger)
            temporaries += 1
        }

        var removed = 0, remaining = 0, held = 0
        var folders = Set<String>()
        try forEachObject { digest, path, info throws(StoreError) in
            if kept.contains(digest) {
                remaining += 1
                return
            }
            guard unlink(path) == 0 else { throw StoreError.system("delete the object", path) }
            ledger.unlinked(info)
            removed += 1
            if info.st_nlink > 1 { held += 1 }
            folders.insert(FileSystem.parentFolder(of: path))
        }
        for folder in folders {
            var info = stat()
            // Only succeeds when empty.
            if lstat(folder, &info) == 0 && rmdir(folder) == 0 { ledger.freedFolder(info) }
        }

        try sweepMemo(keeping: kept, into: &ledger)

        let space = ledger.total
        return GCReport(removed: removed, freedBytes: space.freedBytes, kept: remaining,
                        removedTemporaries: temporaries, heldBytes: space.heldBytes, heldObjects: held)
    }

    /// The manifest in the object file at `path`, or nil when it is not one (too
    /// large, not starting with `[`, not a canonical manifest). Throws when it cannot
    /// be read: an unreadable object is not known not to be a tree.
    func manifestIfTree(_ path: String, _ info: stat) throws(StoreError) -> TreeManifest? {
        guard Int64(info.st_size) <= LocalArtifactStore.largestManifest, try FileSystem.startsWithBracket(path) else {
            return nil
        }
        return TreeManifest.decode(try FileSystem.readAll(path))
    }

    /// Whether the object `digest` exists; throws when that cannot be told (a
    /// folder of the store that cannot be searched).
    func isPresent(_ digest: Digest) throws(StoreError) -> Bool {
        var info = stat()
        if lstat(path(of: digest), &info) == 0 { return true }
        if errno == ENOENT { return false }
        throw StoreError.system("look up", path(of: digest))
    }

    /// The error that stops garbage collection when a kept object cannot be read.
    private func unreadableKept(_ digest: Digest, _ cause: StoreError) -> StoreError {
        StoreError(.io,
                   "garbage collection deleted nothing: object \(digest), which the cache keeps, cannot be read (\(cause)); if it is a folder's manifest, the files it lists would be deleted. Fix its permissions and run `mlpipe cache gc` again",
                   path: cause.path ?? path(of: digest), errno: cause.errno)
    }
}
