#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The digests of large source files the store has stored, remembered by what `stat`
/// says of them (device, inode, size, modification time to the nanosecond), so that
/// storing an unchanged file again costs an `fstat` and a small read instead of hashing
/// it: a rebuilt 1 GiB image layer, hard-linked from the layer cache into a new run's
/// folder, is the same inode as its object and is not read again.
///
/// Layout: `memo/ab/cdef…` (the SHA-256 of the stamp text, split as objects are),
/// holding `sha256:<hex>`; written to `tmp/` and renamed, so a reader never sees half of
/// one. A remembered digest is only trusted while its object is present with its size
/// and store stamp (``ObjectStamp``): a write to a hard-linked source is a write to the
/// object, which breaks the stamp, and a memo entry whose object was collected is
/// ignored (and removed by the next garbage collection). The change time is left out of
/// the key on purpose: every hard link the store makes moves it.
extension LocalArtifactStore {
    /// The memo's folder.
    var memoFolder: String { root + "/memo" }

    /// The digest of the regular file described by `info` when the memo knows it and its
    /// object is intact; nil otherwise (the file is then stored the usual way).
    func storedDigest(of info: stat) -> Digest? {
        guard Int64(info.st_size) >= copyBelow else { return nil }
        let memo = memoPath(for: info)
        // A memo that cannot be read is a miss: the file is hashed, which is always right.
        guard let bytes = try? FileSystem.readAll(memo), bytes.count < 128,
              let digest = Digest(parsing: String(decoding: bytes, as: UTF8.self)) else { return nil }
        var object = stat()
        guard lstat(path(of: digest), &object) == 0,
              ObjectStamp.matches(object, digest: digest, size: Int64(info.st_size)) else { return nil }
        return digest
    }

    /// Remembers that the file whose descriptor is `fd` holds `digest`, when it is large
    /// enough to be worth it and did not change since `before` was taken (other than by
    /// the store's own stamp, when it is the object's inode).
    func remember(_ digest: Digest, of fd: Int32, before: stat) {
        guard Int64(before.st_size) >= copyBelow else { return }
        var after = stat()
        guard fstat(fd, &after) == 0, after.st_size == before.st_size else { return }
        var object = stat()
        let isObject = lstat(path(of: digest), &object) == 0 && object.st_ino == after.st_ino
            && object.st_dev == after.st_dev
        let unchanged = ObjectStat.time(after).tv_sec == ObjectStat.time(before).tv_sec
            && ObjectStat.time(after).tv_nsec == ObjectStat.time(before).tv_nsec
        // The object's own inode carries the stamp the store just set; any other file
        // must not have moved while it was read.
        guard isObject ? ObjectStamp.matches(after, digest: digest, size: Int64(after.st_size)) : unchanged else { return }
        let memo = memoPath(for: after)
        let folder = FileSystem.parentFolder(of: memo)
        let temporary = FileSystem.temporaryName(in: temporaryFolder, prefix: "memo-")
        // The memo only saves time: one that cannot be written costs a hash next time.
        do {
            try FileSystem.makeDirectories(folder)
            try FileSystem.writeAll(Array(digest.description.utf8), to: temporary, mode: 0o644)
        } catch {
            unlink(temporary)
            return
        }
        if rename(temporary, memo) != 0 { unlink(temporary) }
    }

    /// Removes the memo entries whose object is not in `kept`, counting the space in
    /// `ledger`; part of garbage collection.
    func sweepMemo(keeping kept: Set<Digest>, into ledger: inout LinkLedger) throws(StoreError) {
        var info = stat()
        guard lstat(memoFolder, &info) == 0 else { return }
        for prefix in try FileSystem.names(in: memoFolder) where prefix.utf8.count == 2 {
            let folder = memoFolder + "/" + prefix
            for name in try FileSystem.names(in: folder) {
                let path = folder + "/" + name
                let digest = (try? FileSystem.readAll(path)).flatMap { Digest(parsing: String(decoding: $0, as: UTF8.self)) }
                if let digest, kept.contains(digest) { continue }
                try SpaceReclaimer.remove(path, into: &ledger)
            }
            // Only succeeds when empty.
            if lstat(folder, &info) == 0 && rmdir(folder) == 0 { ledger.freedFolder(info) }
        }
    }

    /// `memo/<2 hex>/<62 hex>` of the SHA-256 of the stamp text.
    private func memoPath(for info: stat) -> String {
        let time = ObjectStat.time(info)
        let text = "\(info.st_dev):\(info.st_ino):\(info.st_size):\(time.tv_sec).\(time.tv_nsec)"
        let hex = SHA256Hasher.digest(of: Array(text.utf8)).hex
        return memoFolder + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
    }
}
