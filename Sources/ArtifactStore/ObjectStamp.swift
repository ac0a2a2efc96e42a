import Canonical
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cheap check that an object file still holds what it was stored with: its
/// size, and a modification time that the store set itself.
///
/// A large object shares its inode with the run folders it was hard-linked into,
/// and root ignores the read-only mode, so a write to a run's copy is a write to the
/// object. Re-hashing a multi-gigabyte object on every cache hit would cost as much
/// as copying it, so the store stamps each object when it places it and compares
/// the stamp on every hit; only a mismatch costs a re-hash.
///
/// Why the modification time, set by the store, rather than the change time:
/// - `ctime` moves whenever the inode's metadata does: `link(2)` (every
///   materialisation), `unlink(2)` of another link (every `runs prune`, every
///   `rm -r` of a run folder by hand), `chmod`. A recorded `ctime` would be stale
///   after ordinary use and every hit would re-hash; refreshing the record after each
///   link the store makes still misses the links others remove.
/// - `mtime` moves only when the content may have: `write`, `truncate`, a store
///   through `mmap`, `fallocate` — or when someone sets it (`touch`, `cp -p`), which
///   the check also notices (then costing one re-hash, after which the object is
///   stamped again).
///
/// The stamp lives in the inode itself, so there is no sidecar to keep in step with
/// the object, to lose, or to collect: the seconds are when the object was stored
/// (what `cache ls` shows), and the nanoseconds are ``nanoseconds(for:)``, a value
/// derived from the digest. A write sets the nanoseconds to the clock's, which
/// matches by chance about once in a billion writes, and an append also changes the
/// size. Not caught: a writer who restores both the size and the exact nanoseconds
/// on purpose (`touch -d` to the nanosecond after an edit) — that is tampering, and
/// `mlpipe cache verify` re-hashes everything. On a file system whose timestamps are
/// coarser than a nanosecond the stamp does not survive, and every check re-hashes:
/// correct, only slower.
enum ObjectStamp {
    /// The nanoseconds every stamp of `digest` carries: 1 through 999,999,999 (never
    /// 0, which is what a file system with whole-second times stores for any write).
    static func nanoseconds(for digest: Digest) -> Int {
        var value = 0
        for byte in digest.hex.utf8.prefix(8) {
            value = value << 4 | Int(byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : byte - UInt8(ascii: "a") + 10)
        }
        return value % 999_999_999 + 1
    }

    /// Whether the file described by `info` still has `size` bytes and the stamp of
    /// `digest`.
    static func matches(_ info: stat, digest: Digest, size: Int64) -> Bool {
        Int64(info.st_size) == size && ObjectStat.time(info).tv_nsec == nanoseconds(for: digest)
    }

    /// `UTIME_OMIT` (leave that time as it is), a macro Swift does not import on Linux.
    #if canImport(Darwin)
    static let utimeOmit = -2
    #else
    static let utimeOmit = (1 << 30) - 2
    #endif

    /// Stamps the open file `fd` as the object `digest`: its modification time
    /// becomes now, to the second, with the digest's nanoseconds.
    ///
    /// Setting a time needs ownership of the file, not write access, so this works
    /// on the read-only object through a read-only descriptor. It returns false when
    /// the call fails (a file owned by another user in a shared workspace): the object
    /// is then unstamped, and its next check re-hashes it, which is slower but right.
    @discardableResult
    static func apply(to fd: Int32, digest: Digest) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let modified = timespec(tv_sec: now.tv_sec, tv_nsec: nanoseconds(for: digest))
        let omitted = timespec(tv_sec: 0, tv_nsec: utimeOmit)
        let times = [omitted, modified]   // access time, modification time
        return futimens(fd, times) == 0
    }
}
