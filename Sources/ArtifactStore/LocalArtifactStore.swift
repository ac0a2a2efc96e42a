#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The artifact store in a local folder (`workspace/objects`).
///
/// Layout: `sha256/ab/cdef…` (the digest's first two hex characters name a
/// folder, the other 62 the file), `tmp/` for files being written, and `lock`,
/// the file that leases (shared) and garbage collection (exclusive) `flock`.
///
/// Writes never leave half an object: bytes go to a file in `tmp/`, are hashed,
/// and the file is renamed to its digest's name, which is atomic. Two processes
/// storing the same content at once both succeed; whichever renames second
/// replaces identical bytes or, seeing the object present, drops its file.
/// Stored files are made read-only (0444). A file on the same file system as the
/// store is hard-linked into `tmp/` instead of copied, so storing a 10 GB model
/// costs one read (to hash it) and no writes — and the original file becomes
/// the read-only object too, as DVC's protected mode does.
public final class LocalArtifactStore: ArtifactStore {
    /// The store's root folder.
    public let root: String
    /// Whether `store` may hard-link a source file instead of copying it.
    public let hardLinksSources: Bool

    let objectsFolder: String
    let temporaryFolder: String
    let lockPath: String

    /// Opens (creating if needed) the store at `root`.
    ///
    /// - Parameter hardLinksSources: set false to always copy stored files, leaving
    ///   the originals untouched and writable.
    public init(root: String, hardLinksSources: Bool = true) throws(StoreError) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.hardLinksSources = hardLinksSources
        objectsFolder = self.root + "/sha256"
        temporaryFolder = self.root + "/tmp"
        lockPath = self.root + "/lock"
        try FileSystem.makeDirectories(objectsFolder)
        try FileSystem.makeDirectories(temporaryFolder)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.system("create the lock file", lockPath) }
        close(fd)
    }

    /// Where the object `digest` lives (whether or not it exists).
    public func path(of digest: Digest) -> String {
        let hex = digest.hex
        return objectsFolder + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
    }

    public func contains(_ digest: Digest) -> Bool {
        access(path(of: digest), F_OK) == 0
    }

    public func store(path: String) throws(StoreError) -> StoredObject {
        try withSharedLock { () throws(StoreError) -> StoredObject in
            var info = stat()
            guard stat(path, &info) == 0 else { throw StoreError.system("store", path) }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let (digest, size) = try storeFile(path)
                return StoredObject(digest: digest, kind: .file, size: size)
            case S_IFDIR:
                return try storeTree(path)
            default:
                throw StoreError(.unsupportedFile,
                                 "'\(path)' is neither a file nor a folder; only files and folders can be stored",
                                 path: path)
            }
        }
    }

    /// The manifest of the tree `digest`.
    public func manifest(of digest: Digest) throws(StoreError) -> TreeManifest {
        let bytes = try FileSystem.readAll(path(of: digest))
        guard let manifest = TreeManifest.decode(bytes) else {
            throw StoreError(.corrupt, "object \(digest) is not a tree manifest; it was stored as a file, or is damaged (run `mlpipe cache verify`)",
                             path: path(of: digest))
        }
        return manifest
    }

    public func objects() throws(StoreError) -> [ObjectInfo] {
        var result: [ObjectInfo] = []
        try forEachObject { digest, path, info throws(StoreError) in
            let modified = ObjectStat.time(info)
            result.append(ObjectInfo(
                digest: digest, size: Int64(info.st_size),
                modified: Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9)))
        }
        return result.sorted { $0.digest < $1.digest }
    }

    public func lease() throws(StoreError) -> StoreLease {
        StoreLease(descriptor: try lockDescriptor(exclusive: false, wait: true))
    }

    // MARK: - Writing objects

    /// Stores one file: hard-linked or copied into `tmp/`, hashed, renamed into place.
    func storeFile(_ source: String) throws(StoreError) -> (Digest, Int64) {
        let temporary = FileSystem.temporaryName(in: temporaryFolder)
        var placed = false
        defer { if !placed { unlink(temporary) } }
        let digest: Digest, size: Int64
        // AT_SYMLINK_FOLLOW: a link to a file stores the file, not the link.
        if hardLinksSources && linkat(AT_FDCWD, source, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) == 0 {
            (digest, size) = try FileDigest.sha256(path: temporary)
        } else {
            let input = open(source, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw StoreError.system("read", source) }
            defer { close(input) }
            let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
            guard output >= 0 else { throw StoreError.system("create", temporary) }
            defer { close(output) }
            (digest, size) = try FileDigest.stream(from: input, path: source, to: (output, temporary), progress: nil)
        }
        try place(temporary, as: digest)
        placed = true
        return (digest, size)
    }

    /// Stores bytes held in memory (a manifest).
    func storeBytes(_ bytes: [UInt8]) throws(StoreError) -> Digest {
        let digest = SHA256Hasher.digest(of: bytes)
        if contains(digest) { return digest }
        let temporary = FileSystem.temporaryName(in: temporaryFolder)
        var placed = false
        defer { if !placed { unlink(temporary) } }
        try FileSystem.writeAll(bytes, to: temporary, mode: 0o444)
        try place(temporary, as: digest)
        placed = true
        return digest
    }

    /// Renames the finished `temporary` file to the name of `digest`, or drops it
    /// when the object is already there. On return `temporary` no longer exists.
    private func place(_ temporary: String, as digest: Digest) throws(StoreError) {
        let target = path(of: digest)
        if access(target, F_OK) == 0 {
            unlink(temporary)
            return
        }
        // Read-only from here on; for a hard link this is the source's inode too.
        chmod(temporary, 0o444)
        let folder = String(target.dropLast(63))
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw StoreError.system("create the object folder", folder)
        }
        guard rename(temporary, target) == 0 else { throw StoreError.system("move an object into", target) }
    }

    /// Stores each file of the folder, then its manifest.
    private func storeTree(_ folder: String) throws(StoreError) -> StoredObject {
        var entries: [TreeManifest.Entry] = []
        for file in try FileSystem.listFiles(in: folder) {
            // The executable bit is read before storing: a hard-linked source
            // becomes 0444 once stored.
            let (digest, size) = try storeFile(folder + "/" + file.path)
            entries.append(TreeManifest.Entry(digest: digest, executable: file.executable, path: file.path, size: size))
        }
        let manifest = TreeManifest(entries: entries)
        let digest = try storeBytes(manifest.encoded())
        return StoredObject(digest: digest, kind: .tree, size: manifest.totalSize)
    }

    // MARK: - Locking and listing

    /// Opens the lock file and takes a shared or exclusive `flock` on it.
    func lockDescriptor(exclusive: Bool, wait: Bool) throws(StoreError) -> Int32 {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.system("open the lock file", lockPath) }
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        while flock(fd, operation) != 0 {
            let number = errno
            if number == EINTR { continue }
            close(fd)
            if number == EWOULDBLOCK {
                throw StoreError(.locked,
                                 "the store at '\(root)' is in use by a running `mlpipe run` (it holds a lease); retry when no run is active",
                                 path: lockPath)
            }
            throw StoreError.system("lock", lockPath, errno: number)
        }
        return fd
    }

    /// Runs `body` holding a shared lock, so that garbage collection cannot
    /// delete an object between its writing and its recording by the caller.
    func withSharedLock<Result>(_ body: () throws(StoreError) -> Result) throws(StoreError) -> Result {
        let fd = try lockDescriptor(exclusive: false, wait: true)
        defer { close(fd) }
        return try body()
    }

    /// Calls `body` for every object file.
    func forEachObject(_ body: (Digest, String, stat) throws(StoreError) -> Void) throws(StoreError) {
        for prefix in try FileSystem.names(in: objectsFolder) where prefix.utf8.count == 2 {
            let folder = objectsFolder + "/" + prefix
            for name in try FileSystem.names(in: folder) {
                guard name.utf8.count == 62, let digest = Digest(parsing: "sha256:" + prefix + name) else { continue }
                let path = folder + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }   // removed meanwhile
                try body(digest, path, info)
            }
        }
    }
}
