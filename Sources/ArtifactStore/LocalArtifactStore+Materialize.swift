#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LocalArtifactStore {
    /// Re-creates `object` at `destination`.
    ///
    /// A file is hard-linked to the object when the destination is on the same
    /// file system (it is then read-only: it *is* the object), else copied with
    /// mode 0644. A folder is rebuilt from its manifest in a temporary folder next
    /// to `destination`, then renamed into place; executable files are always
    /// copied (mode 0755), since a shared read-only inode cannot carry the bit for
    /// one tree and not another. Whatever was at `destination` is replaced.
    public func materialize(_ object: StoredObject, at destination: String) throws(StoreError) {
        try withSharedLock { () throws(StoreError) in
            let target = destination.count > 1 && destination.hasSuffix("/") ? String(destination.dropLast()) : destination
            guard contains(object.digest) else {
                throw StoreError(.notFound,
                                 "object \(object.digest) is not in the store at '\(root)'; it was garbage-collected or never stored — re-run the stage that makes it",
                                 path: path(of: object.digest))
            }
            let parent = FileSystem.parentFolder(of: target)
            if !parent.isEmpty { try FileSystem.makeDirectories(parent) }
            let folder = parent.isEmpty ? "." : parent
            let temporary = FileSystem.temporaryName(in: folder, prefix: "." + FileSystem.baseName(of: target) + ".mlpipe-")
            var done = false
            defer { if !done { FileSystem.removeTree(temporary) } }
            switch object.kind {
            case .file:
                try linkOrCopy(object.digest, to: temporary, executable: false)
                try replace(target, with: temporary)
            case .tree:
                let manifest = try manifest(of: object.digest)
                guard mkdir(temporary, 0o755) == 0 else { throw StoreError.system("create", temporary) }
                for entry in manifest.entries {
                    guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains("..") else {
                        throw StoreError(.corrupt, "tree \(object.digest) lists the unsafe path '\(entry.path)'; run `mlpipe cache verify`",
                                         path: path(of: object.digest))
                    }
                    let file = temporary + "/" + entry.path
                    let fileParent = FileSystem.parentFolder(of: file)
                    if fileParent != temporary { try FileSystem.makeDirectories(fileParent) }
                    try linkOrCopy(entry.digest, to: file, executable: entry.executable)
                }
                try replace(target, with: temporary)
            }
            done = true
        }
    }

    /// Hard-links the object to `file` or, across file systems or for an
    /// executable, copies it.
    private func linkOrCopy(_ digest: Digest, to file: String, executable: Bool) throws(StoreError) {
        let source = path(of: digest)
        if !executable && link(source, file) == 0 { return }
        if !executable && errno == ENOENT && access(source, F_OK) != 0 {
            throw StoreError(.notFound, "object \(digest) is missing from the store; run `mlpipe cache verify`", path: source)
        }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StoreError.system("read", source) }
        defer { close(input) }
        let mode: mode_t = executable ? 0o755 : 0o644
        let output = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw StoreError.system("create", file) }
        defer { close(output) }
        _ = try FileDigest.stream(from: input, path: source, to: (output, file), progress: nil)
        fchmod(output, mode)   // not narrowed by the umask
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
