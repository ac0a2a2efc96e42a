import Canonical
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LocalArtifactStore {
    /// Whether `object` still holds what it was stored with: true when intact,
    /// false when some of its content was wrong and has been removed from the store.
    ///
    /// A file costs one `stat` when its size and stamp (``ObjectStamp``) match, and a
    /// re-hash when they do not (someone wrote to it through a run folder's hard
    /// link, or touched it); an intact file is then stamped again, so the next check
    /// is cheap. A tree re-hashes its manifest (small) and checks each file so.
    /// Content that does not match its digest is removed, so that no later hit can
    /// hand it out and the next run of the stage that made it stores it afresh.
    ///
    /// Throws ``StoreError/Code/notFound`` when the object, or a file its manifest
    /// lists, is not in the store, and ``StoreError/Code/io`` when it cannot be read.
    /// ``materialize(_:at:)`` makes the same check of every file it hard-links or
    /// clones, and hashes every file it copies.
    public func check(_ object: StoredObject) throws(StoreError) -> Bool {
        try withSharedLock { () throws(StoreError) -> Bool in
            switch object.kind {
            case .file:
                return try isIntact(object.digest, size: object.size)
            case .tree:
                let manifest: TreeManifest
                do throws(StoreError) {
                    manifest = try intactManifest(object.digest)
                } catch where error.code == .corrupt {
                    return false
                }
                var intact = true
                for entry in manifest.entries {
                    do throws(StoreError) {
                        if try !isIntact(entry.digest, size: entry.size) { intact = false }
                    } catch where error.code == .notFound {
                        throw StoreError(.notFound,
                                         "tree \(object.digest) lists '\(entry.path)' as \(entry.digest), which is not in the store; re-run the stage that makes it",
                                         path: path(of: entry.digest))
                    }
                }
                return intact
            }
        }
    }

    /// The outcome of checking one object file.
    enum Integrity {
        /// Its size and stamp match, or its content hashes to its name.
        case intact
        /// Its content hashes to `actual`.
        case corrupt(actual: Digest)
    }

    /// The object's file, open for reading, and its status; the caller closes it.
    func openObject(_ digest: Digest) throws(StoreError) -> (Int32, stat) {
        let source = path(of: digest)
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw missingObject(digest) }
            throw StoreError.system("read", source)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw StoreError.system("read", source)
        }
        return (fd, info)
    }

    /// Whether the file object `digest` of `size` bytes is intact; removes it when not.
    func isIntact(_ digest: Digest, size: Int64) throws(StoreError) -> Bool {
        let (fd, info) = try openObject(digest)
        defer { close(fd) }
        switch try integrity(of: digest, size: size, descriptor: fd, info: info) {
        case .intact:
            return true
        case .corrupt:
            try discard(digest, inode: info)
            return false
        }
    }

    /// Throws ``StoreError/Code/corrupt``, after removing the object, unless the
    /// object open at `fd` is intact.
    func requireIntact(_ digest: Digest, size: Int64, descriptor fd: Int32, info: stat) throws(StoreError) {
        if case .corrupt(let actual) = try integrity(of: digest, size: size, descriptor: fd, info: info) {
            try discard(digest, inode: info)
            throw corruptObject(digest, actual: actual)
        }
    }

    /// The cheap check of the object open at `fd`, then, when it fails, a re-hash
    /// (and a new stamp when the content is right).
    func integrity(of digest: Digest, size: Int64, descriptor fd: Int32, info: stat) throws(StoreError) -> Integrity {
        if ObjectStamp.matches(info, digest: digest, size: size) { return .intact }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw StoreError.system("read", path(of: digest)) }
        let (actual, _) = try FileDigest.stream(from: fd, path: path(of: digest), to: nil, progress: nil)
        guard actual == digest else { return .corrupt(actual: actual) }
        ObjectStamp.apply(to: fd, digest: digest)
        return .intact
    }

    /// The manifest of the tree `digest`, re-hashed. Throws ``StoreError/Code/corrupt``
    /// when its bytes do not match (after removing it) or are not a manifest.
    func intactManifest(_ digest: Digest) throws(StoreError) -> TreeManifest {
        let source = path(of: digest)
        let (fd, info) = try openObject(digest)
        defer { close(fd) }
        guard Int64(info.st_size) <= LocalArtifactStore.largestManifest else { throw notAManifest(digest) }
        let bytes = try FileSystem.readAll(fd, path: source)
        let actual = SHA256Hasher.digest(of: bytes)
        guard actual == digest else {
            try discard(digest, inode: info)
            throw corruptObject(digest, actual: actual)
        }
        guard let manifest = TreeManifest.decode(bytes) else { throw notAManifest(digest) }
        return manifest
    }

    /// Removes the object `digest` if it is still the inode described by `info`
    /// (the one found corrupt): a writer may have put an intact object in its place
    /// since, and that one stays.
    func discard(_ digest: Digest, inode info: stat) throws(StoreError) {
        let target = path(of: digest)
        var current = stat()
        guard lstat(target, &current) == 0, current.st_dev == info.st_dev, current.st_ino == info.st_ino else { return }
        guard unlink(target) == 0 || errno == ENOENT else {
            throw StoreError.system("remove the damaged object", target)
        }
    }

    /// The error for an object whose content does not match its name.
    func corruptObject(_ digest: Digest, actual: Digest) -> StoreError {
        StoreError(.corrupt,
                   "object \(digest) was changed after it was stored (its content now has digest \(actual)), most likely by a write to a run folder's hard link to it; it was removed from the store, so the stage that made it runs again",
                   path: path(of: digest))
    }

    /// The error for an object that is not a tree manifest.
    func notAManifest(_ digest: Digest) -> StoreError {
        StoreError(.corrupt, "object \(digest) is not a tree manifest; it was stored as a file, or is damaged (run `mlpipe cache verify`)",
                   path: path(of: digest))
    }
}
