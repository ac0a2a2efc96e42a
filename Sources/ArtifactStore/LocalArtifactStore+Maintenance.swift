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
    public func verify() throws(StoreError) -> [VerifyProblem] {
        var problems: [VerifyProblem] = []
        var manifests: [(Digest, TreeManifest)] = []
        try forEachObject { digest, path, info throws(StoreError) in
            let actual: Digest
            do {
                actual = try FileDigest.sha256(path: path).digest
            } catch {
                problems.append(VerifyProblem(digest: digest, actual: nil,
                                              message: "object \(digest) cannot be read: \(error); delete it with `mlpipe cache gc` and re-run the stage that made it"))
                return
            }
            if actual != digest {
                problems.append(VerifyProblem(digest: digest, actual: actual,
                                              message: "object \(digest) has content with digest \(actual): it was modified or damaged after it was stored; delete it (`rm '\(path)'`) and re-run the stage that made it"))
                return
            }
            if let manifest = manifestIfTree(path, info) { manifests.append((digest, manifest)) }
        }
        for (digest, manifest) in manifests {
            for entry in manifest.entries where !contains(entry.digest) {
                problems.append(VerifyProblem(digest: digest, actual: nil,
                                              message: "tree \(digest) lists '\(entry.path)' as \(entry.digest), which is missing from the store; re-run the stage that made the tree"))
            }
        }
        return problems.sorted { ($0.digest, $0.message) < ($1.digest, $1.message) }
    }

    /// Deletes every object that neither `keeping` nor a kept tree names, and
    /// temporary files older than an hour.
    ///
    /// Takes the store's lock exclusively without waiting: while any lease is held
    /// (a run is active) it throws ``StoreError/Code/locked`` and deletes nothing.
    public func collectGarbage(keeping: Set<Digest>) throws(StoreError) -> GCReport {
        let fd = try lockDescriptor(exclusive: true, wait: false)
        defer { close(fd) }
        return try sweep(keeping: keeping)
    }

    public func collectGarbage(deciding: @Sendable () async throws -> Set<Digest>) async throws -> GCReport {
        let fd = try lockDescriptor(exclusive: true, wait: false)
        defer { close(fd) }
        return try sweep(keeping: try await deciding())
    }

    /// Deletes what `keeping` does not keep; the caller holds the exclusive lock.
    private func sweep(keeping: Set<Digest>) throws(StoreError) -> GCReport {
        var kept = keeping
        for digest in keeping {
            var info = stat()
            let path = path(of: digest)
            guard lstat(path, &info) == 0, let manifest = manifestIfTree(path, info) else { continue }
            for entry in manifest.entries { kept.insert(entry.digest) }
        }

        var removed = 0, remaining = 0
        var freed: Int64 = 0
        var folders = Set<String>()
        try forEachObject { digest, path, info throws(StoreError) in
            if kept.contains(digest) {
                remaining += 1
                return
            }
            guard unlink(path) == 0 else { throw StoreError.system("delete the object", path) }
            removed += 1
            freed += Int64(info.st_size)
            folders.insert(FileSystem.parentFolder(of: path))
        }
        for folder in folders { rmdir(folder) }   // only succeeds when empty

        var temporaries = 0
        let cutoff = Date().timeIntervalSince1970 - LocalArtifactStore.temporaryFileAge
        for name in try FileSystem.names(in: temporaryFolder) {
            let path = temporaryFolder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, Double(ObjectStat.time(info).tv_sec) < cutoff else { continue }
            FileSystem.removeTree(path)
            temporaries += 1
            freed += Int64(info.st_size)
        }
        return GCReport(removed: removed, freedBytes: freed, kept: remaining, removedTemporaries: temporaries)
    }

    /// The manifest in the object file at `path`, if it is one.
    func manifestIfTree(_ path: String, _ info: stat) -> TreeManifest? {
        guard Int64(info.st_size) <= LocalArtifactStore.largestManifest, FileSystem.startsWithBracket(path),
              let bytes = try? FileSystem.readAll(path) else { return nil }
        return TreeManifest.decode(bytes)
    }
}
