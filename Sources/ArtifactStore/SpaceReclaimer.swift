#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Disk space that removing files gave back, or would give back.
///
/// Counted in allocated blocks (`st_blocks`), as `du` counts, and per inode: a file
/// with another hard link left (a run folder's output that is also an object in the
/// store, or the reverse) frees nothing when one of its names goes, so its bytes are
/// ``heldBytes`` rather than ``freedBytes``.
public struct ReclaimedSpace: Sendable, Hashable {
    /// Bytes given back to the file system: those of every inode whose last link was
    /// removed, folders included.
    public var freedBytes: Int64
    /// Bytes of removed names whose inode lives on through a link elsewhere.
    public var heldBytes: Int64

    /// Creates a count.
    public init(freedBytes: Int64 = 0, heldBytes: Int64 = 0) {
        self.freedBytes = freedBytes
        self.heldBytes = heldBytes
    }
}

/// Removes files and folders, counting the disk space that comes back.
///
/// Run folders hold hard links to large objects, and the store holds the other
/// link, so neither `runs prune` nor `cache gc` frees anything alone: only what
/// drops an inode's last link does. This is where that is counted, for both.
public enum SpaceReclaimer {
    /// Removes `path` (a file, or a folder with everything in it; nothing when it
    /// does not exist) and returns the space that came back.
    ///
    /// Stops at the first name it cannot remove and throws, naming it; what was
    /// removed before stays removed.
    public static func remove(_ path: String) throws(StoreError) -> ReclaimedSpace {
        var ledger = LinkLedger()
        try remove(path, into: &ledger)
        return ledger.total
    }

    /// The space that removing every path in `paths` would give back, without
    /// removing anything: an inode is freed when all its links are among them.
    public static func estimate(removing paths: [String]) throws(StoreError) -> ReclaimedSpace {
        var seen: [FileKey: (links: Int, total: Int, bytes: Int64)] = [:]
        var folders: Int64 = 0
        func walk(_ path: String) throws(StoreError) {
            var info = stat()
            guard lstat(path, &info) == 0 else {
                if errno == ENOENT { return }
                throw StoreError.system("read", path)
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                for name in try FileSystem.names(in: path) { try walk(path + "/" + name) }
                folders += ObjectStat.diskBytes(info)
                return
            }
            let key = FileKey(info)
            let previous = seen[key]?.links ?? 0
            seen[key] = (previous + 1, Int(info.st_nlink), ObjectStat.diskBytes(info))
        }
        for path in paths { try walk(path) }
        var space = ReclaimedSpace(freedBytes: folders)
        for inode in seen.values {
            if inode.links >= inode.total { space.freedBytes += inode.bytes } else { space.heldBytes += inode.bytes }
        }
        return space
    }

    /// Removes `path` depth first, entering each unlink in `ledger`.
    static func remove(_ path: String, into ledger: inout LinkLedger) throws(StoreError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw StoreError.system("read", path)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            // A read-only folder (a stage may leave one) cannot have its entries removed.
            if info.st_mode & 0o200 == 0 { chmod(path, (info.st_mode & 0o7777) | 0o700) }
            for name in try FileSystem.names(in: path) { try remove(path + "/" + name, into: &ledger) }
            guard rmdir(path) == 0 || errno == ENOENT else { throw StoreError.system("remove the folder", path) }
            ledger.freedFolder(info)
            return
        }
        guard unlink(path) == 0 || errno == ENOENT else { throw StoreError.system("remove", path) }
        ledger.unlinked(info)
    }
}

/// An inode's identity: its device and number.
struct FileKey: Hashable {
    var device: UInt64
    var inode: UInt64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Counts what unlinks give back: an inode's bytes are freed by the unlink that
/// drops its last link, and held while another link remains.
struct LinkLedger {
    private var freed: Int64 = 0
    /// Inodes that lost a link but kept another, with their bytes.
    private var held: [FileKey: Int64] = [:]

    /// Enters the unlink of a name whose `lstat`, just before, was `info`.
    mutating func unlinked(_ info: stat) {
        let key = FileKey(info)
        if info.st_nlink <= 1 {
            freed += ObjectStat.diskBytes(info)
            held[key] = nil
        } else {
            held[key] = ObjectStat.diskBytes(info)
        }
    }

    /// Enters a removed folder.
    mutating func freedFolder(_ info: stat) {
        freed += ObjectStat.diskBytes(info)
    }

    /// What came back, and what stays held by other links.
    var total: ReclaimedSpace {
        ReclaimedSpace(freedBytes: freed, heldBytes: held.values.reduce(0, +))
    }
}
