#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LocalArtifactStore {
    /// Re-creates `object` at `destination`, never handing out bytes that do not
    /// match its digest.
    ///
    /// Each file is placed as the type's comment says: below ``copyBelow`` a copy
    /// (mode 0644, or 0755 for an executable), hashed as it is written; from there
    /// a clone where the file system has them, else a hard link (the read-only object
    /// itself) once the object passed its check (``check(_:)``); executables are never
    /// hard-linked, since one shared inode cannot carry the bit for one tree and not
    /// another. A folder is rebuilt from its manifest, which is re-hashed first.
    ///
    /// The result appears at once: it is built under a temporary name next to
    /// `destination` and renamed into place, replacing what was there. An object
    /// whose content is wrong is removed from the store, and this throws
    /// ``StoreError/Code/corrupt``; a missing one throws ``StoreError/Code/notFound``.
    /// Either way the caller should make the output again.
    public func materialize(_ object: StoredObject, at destination: String) throws(StoreError) {
        try withSharedLock { () throws(StoreError) in
            let target = destination.count > 1 && destination.hasSuffix("/") ? String(destination.dropLast()) : destination
            // Looked up before anything is written, so that a missing object leaves no trace.
            let manifest: TreeManifest?
            switch object.kind {
            case .file:
                manifest = nil
                guard contains(object.digest) else { throw missingObject(object.digest) }
            case .tree:
                manifest = try intactManifest(object.digest)
            }
            let parent = FileSystem.parentFolder(of: target)
            if !parent.isEmpty { try FileSystem.makeDirectories(parent) }
            let folder = parent.isEmpty ? "." : parent
            let temporary = FileSystem.temporaryName(in: folder, prefix: "." + FileSystem.baseName(of: target) + ".mlpipe-")
            var done = false
            defer { if !done { FileSystem.removeTree(temporary) } }
            if let manifest {
                guard mkdir(temporary, 0o755) == 0 else { throw StoreError.system("create", temporary) }
                for entry in manifest.entries {
                    guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains("..") else {
                        throw StoreError(.corrupt, "tree \(object.digest) lists the unsafe path '\(entry.path)'; run `mlpipe cache verify`",
                                         path: path(of: object.digest))
                    }
                    let file = temporary + "/" + entry.path
                    let fileParent = FileSystem.parentFolder(of: file)
                    if fileParent != temporary { try FileSystem.makeDirectories(fileParent) }
                    try emplace(entry.digest, size: entry.size, at: file, executable: entry.executable)
                }
            } else {
                try emplace(object.digest, size: object.size, at: temporary, executable: false)
            }
            try replace(target, with: temporary)
            done = true
        }
    }

    /// Makes `file` (which must not exist) hold the object `digest` of `size` bytes.
    private func emplace(_ digest: Digest, size: Int64, at file: String, executable: Bool) throws(StoreError) {
        let source = path(of: digest)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ENOENT { throw missingObject(digest) }
            throw StoreError.system("read", source)
        }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw StoreError.system("read", source) }
        let mode: mode_t = executable ? 0o755 : 0o644
        if Int64(info.st_size) >= copyBelow {
            try requireIntact(digest, size: size, descriptor: input, info: info)
            if try clone(input, to: file, mode: mode) { return }
            if !executable && link(source, file) == 0 { return }
            // Across file systems, or at the file system's limit of links: a copy.
        }
        try copyChecked(digest, from: input, info: info, to: file, mode: mode)
    }

    /// Clones the object open at `input` to a new `file`; false, leaving nothing
    /// behind, where the file system has no clones.
    private func clone(_ input: Int32, to file: String, mode: mode_t) throws(StoreError) -> Bool {
        let output = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw StoreError.system("create", file) }
        defer { close(output) }
        guard FileClone.reflink(from: input, to: output) else {
            unlink(file)
            return false
        }
        fchmod(output, mode)   // not narrowed by the umask
        return true
    }

    /// Copies the object open at `input` to a new `file`, hashing what it copies;
    /// when that is not `digest`, removes the object and throws.
    private func copyChecked(_ digest: Digest, from input: Int32, info: stat, to file: String, mode: mode_t) throws(StoreError) {
        let source = path(of: digest)
        guard lseek(input, 0, SEEK_SET) == 0 else { throw StoreError.system("read", source) }
        let output = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw StoreError.system("create", file) }
        defer { close(output) }
        let (actual, _) = try FileDigest.stream(from: input, path: source, to: (output, file), progress: nil)
        fchmod(output, mode)   // not narrowed by the umask
        guard actual == digest else {
            try discard(digest, inode: info)
            throw corruptObject(digest, actual: actual)
        }
    }

    /// The error for an object that is not in the store.
    func missingObject(_ digest: Digest) -> StoreError {
        StoreError(.notFound,
                   "object \(digest) is not in the store at '\(root)'; it was garbage-collected, removed as damaged, or never stored — re-run the stage that makes it",
                   path: path(of: digest))
    }

    /// Renames `temporary` to `target`. Over a file that is one atomic step; over
    /// a folder (which rename cannot replace) the old one is moved aside first and
    /// deleted afterwards.
    private func replace(_ target: String, with temporary: String) throws(StoreError) {
        if rename(temporary, target) == 0 { return }
        guard [EISDIR, ENOTDIR, ENOTEMPTY, EEXIST].contains(errno) else {
            throw StoreError.system("move the result into", target)
        }
        let parent = FileSystem.parentFolder(of: target)
        let aside = FileSystem.temporaryName(in: parent.isEmpty ? "." : parent,
                                             prefix: "." + FileSystem.baseName(of: target) + ".old-")
        guard rename(target, aside) == 0 else { throw StoreError.system("replace", target) }
        guard rename(temporary, target) == 0 else {
            let number = errno
            rename(aside, target)
            throw StoreError.system("move the result into", target, errno: number)
        }
        FileSystem.removeTree(aside)
    }
}
