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
/// Stored files are made read-only (0444) and stamped (``ObjectStamp``).
///
/// How bytes move between the store and run folders depends on the file's size
/// (``copyBelow``), in both directions (`store` and `materialize`):
/// - below 1 MiB, a copy, hashed as it is written: a run's file is its own inode, so
///   writing to it can never change the store, and a copy out of the store never
///   hands out bytes that do not match their digest;
/// - from 1 MiB, a copy-on-write clone where the file system has them (btrfs, XFS):
///   as independent as a copy, at no cost;
/// - else a hard link, which shares the inode: a run's large output *is* the
///   read-only object, as in DVC's protected mode, and storing a 10 GB model costs
///   one read (to hash it) and no writes. Since root ignores the read-only mode,
///   every hit first checks the object's size and stamp, re-hashes it when they do
///   not match, and removes it when its content is wrong (see ``check(_:)``).
public final class LocalArtifactStore: ArtifactStore {
    /// The store's root folder.
    public let root: String
    /// Whether `store` may hard-link a large source file instead of copying it.
    public let hardLinksSources: Bool
    /// Files smaller than this many bytes are copied in and out of the store, never
    /// shared with a run folder.
    ///
    /// 1 MiB by default: one read and one write of the hashing buffer, about a
    /// millisecond from the page cache (mostly hashing, at the 1.2 GB/s that `make
    /// bench` measures; storing hashes anyway), and a duplicate of at most 1 MiB per
    /// output per run, whatever the number of runs. Most outputs are that small (metrics,
    /// reports, configs, small models), and for them the store is then immune to
    /// writes through a run folder, with no check to pay. Above it, a copy costs time
    /// and space in proportion to the file (a second and a gigabyte per run for a
    /// 1 GiB model), while a hard link costs one `link(2)` and a `stat` per hit.
    public let copyBelow: Int64

    let objectsFolder: String
    let temporaryFolder: String
    let lockPath: String

    /// Opens (creating if needed) the store at `root`.
    ///
    /// - Parameters:
    ///   - hardLinksSources: set false to never hard-link stored files (they are
    ///     cloned or copied), leaving the originals untouched and writable.
    ///   - copyBelow: see ``copyBelow``.
    public init(root: String, hardLinksSources: Bool = true, copyBelow: Int64 = 1 << 20) throws(StoreError) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.hardLinksSources = hardLinksSources
        self.copyBelow = copyBelow
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
        guard let manifest = TreeManifest.decode(bytes) else { throw notAManifest(digest) }
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

    /// Stores one file: copied, cloned or hard-linked into `tmp/` (see the type's
    /// comment), hashed, stamped, renamed into place.
    func storeFile(_ source: String) throws(StoreError) -> (Digest, Int64) {
        // open follows a link to a file: the file is stored, not the link.
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StoreError.system("read", source) }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw StoreError.system("read", source) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StoreError(.unsupportedFile, "'\(source)' is not a regular file; only files can be stored", path: source)
        }
        // A large file stored before and unchanged since (a rebuilt layer hard-linked
        // from its cache) is not read again; see LocalArtifactStore+DigestMemo.
        if let digest = storedDigest(of: info) { return (digest, Int64(info.st_size)) }
        let temporary = FileSystem.temporaryName(in: temporaryFolder)
        var placed = false
        defer { if !placed { unlink(temporary) } }
        let output = try copyOrShare(source, input: input, size: Int64(info.st_size), to: temporary)
        defer { close(output.fd) }
        ObjectStamp.apply(to: output.fd, digest: output.digest)
        try place(temporary, as: output.digest, size: output.size)
        placed = true
        remember(output.digest, of: input, before: info)
        return (output.digest, output.size)
    }

    /// Makes `temporary` hold the content of `source` and hashes it; returns a
    /// descriptor of `temporary` for the caller to stamp and close.
    private func copyOrShare(_ source: String, input: Int32, size: Int64,
                             to temporary: String) throws(StoreError) -> (fd: Int32, digest: Digest, size: Int64) {
        func create() throws(StoreError) -> Int32 {
            let fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
            guard fd >= 0 else { throw StoreError.system("create", temporary) }
            return fd
        }
        if size >= copyBelow {
            let clone = try create()
            if FileClone.reflink(from: input, to: clone) {
                let (digest, size) = try closingOnError { () throws(StoreError) in
                    try FileDigest.stream(from: clone, path: temporary, to: nil, progress: nil)
                } closing: { close(clone) }
                return (clone, digest, size)
            }
            close(clone)
            unlink(temporary)
            // AT_SYMLINK_FOLLOW: a link to a file stores the file, not the link.
            if hardLinksSources && linkat(AT_FDCWD, source, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) == 0 {
                return try hashLinked(source, at: temporary)
            }
        }
        let copy = try create()
        let (digest, copied) = try closingOnError { () throws(StoreError) in
            try FileDigest.stream(from: input, path: source, to: (copy, temporary), progress: nil)
        } closing: { close(copy) }
        return (copy, digest, copied)
    }

    /// Hashes `temporary`, a hard link to `source`, and makes sure nothing wrote to
    /// it meanwhile: the stamp set next would otherwise vouch for bytes never hashed.
    private func hashLinked(_ source: String, at temporary: String) throws(StoreError) -> (fd: Int32, digest: Digest, size: Int64) {
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.system("read", temporary) }
        var before = stat(), after = stat()
        let (digest, size) = try closingOnError { () throws(StoreError) in
            guard fstat(fd, &before) == 0 else { throw StoreError.system("read", source) }
            let result = try FileDigest.stream(from: fd, path: source, to: nil, progress: nil)
            guard fstat(fd, &after) == 0 else { throw StoreError.system("read", source) }
            return result
        } closing: { close(fd) }
        // Size and modification time, as the stamp itself: the change time would also
        // move when another process links the same inode (a source that is an object).
        let unchanged = before.st_size == after.st_size
            && ObjectStat.time(before).tv_sec == ObjectStat.time(after).tv_sec
            && ObjectStat.time(before).tv_nsec == ObjectStat.time(after).tv_nsec
        guard unchanged else {
            close(fd)
            throw StoreError(.io, "'\(source)' changed while it was being stored; make sure nothing writes to a stage's outputs after the stage has ended, then run it again",
                             path: source)
        }
        return (fd, digest, size)
    }

    /// Runs `body`, calling `cleanUp` (which closes a descriptor) only when it throws.
    private func closingOnError<T>(_ body: () throws(StoreError) -> T, closing cleanUp: () -> Void) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            cleanUp()
            throw error
        }
    }

    /// Stores bytes held in memory (a manifest).
    func storeBytes(_ bytes: [UInt8]) throws(StoreError) -> Digest {
        let digest = SHA256Hasher.digest(of: bytes)
        if contains(digest) { return digest }
        let temporary = FileSystem.temporaryName(in: temporaryFolder)
        var placed = false
        defer { if !placed { unlink(temporary) } }
        try FileSystem.writeAll(bytes, to: temporary, mode: 0o444) { fd in ObjectStamp.apply(to: fd, digest: digest) }
        try place(temporary, as: digest, size: Int64(bytes.count))
        placed = true
        return digest
    }

    /// Renames the finished `temporary` file to the name of `digest`, or drops it
    /// when the object is already there and intact. On return `temporary` no longer
    /// exists.
    ///
    /// An object already there whose size or stamp is off may have been written
    /// through a run folder's hard link. `temporary` was hashed a moment ago, so it
    /// replaces that object: cheaper than re-hashing the old one, and never wrong.
    private func place(_ temporary: String, as digest: Digest, size: Int64) throws(StoreError) {
        let target = path(of: digest)
        var existing = stat()
        if lstat(target, &existing) == 0 {
            if ObjectStamp.matches(existing, digest: digest, size: size) {
                unlink(temporary)
                return
            }
        } else if errno != ENOENT {
            throw StoreError.system("read", target)
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

    /// How long garbage collection keeps trying for the exclusive lock before it
    /// refuses. A lease can outlive its release by a moment: a process being started
    /// holds a copy of the lock's descriptor until it runs its program (the descriptor
    /// is close-on-exec), and a run may be finishing.
    static let exclusiveGrace: Duration = .seconds(1)

    /// Opens the lock file and takes a shared or exclusive `flock` on it. Without
    /// `wait`, a lock held elsewhere is tried again every 10 ms for up to `grace`.
    func lockDescriptor(exclusive: Bool, wait: Bool, grace: Duration = .zero) throws(StoreError) -> Int32 {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.system("open the lock file", lockPath) }
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        while flock(fd, operation) != 0 {
            let number = errno
            if number == EINTR { continue }
            if number == EWOULDBLOCK && clock.now < deadline {
                usleep(10_000)
                continue
            }
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
                guard lstat(path, &info) == 0 else {
                    if errno == ENOENT { continue }   // removed meanwhile
                    throw StoreError.system("read", path)
                }
                try body(digest, path, info)
            }
        }
    }
}
