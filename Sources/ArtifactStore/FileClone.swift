#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Copy-on-write clones ("reflinks"): a new inode that shares the source's blocks
/// until either side is written, so that a clone costs no reads, no writes and no
/// space, and a write to it can never change the source.
///
/// Linux has the `FICLONE` ioctl on btrfs, XFS (formatted with reflink, the default
/// since xfsprogs 5.1), bcachefs and ZFS 2.2+. ext4 and tmpfs have no clones: the
/// call fails (`EOPNOTSUPP`, `EINVAL`, `ENOTTY`), as it does across file systems
/// (`EXDEV`), and the caller falls back to a copy or a hard link. Other platforms
/// report no clones (macOS's `clonefile` takes paths and is left for when mlpipe
/// is built there).
enum FileClone {
    /// `_IOW(0x94, 9, int)` from `<linux/fs.h>`, which Swift cannot import as a macro.
    static let cloneRequest: UInt = 0x4004_9409

    /// Makes the empty file open for writing at `target` share every block of the
    /// file open at `source`. Returns false, leaving `target` empty, where the file
    /// system cannot.
    static func reflink(from source: Int32, to target: Int32) -> Bool {
        #if os(Linux)
        return ioctl(target, cloneRequest, source) == 0
        #else
        return false
        #endif
    }
}
