#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `lstat` says of a file that tells whether its content may have changed: device,
/// inode, size and modification time to the nanosecond.
///
/// The key of the file-digest memo (`FileDigestMemo`) and the check that a file did not
/// change between the moment its digest entered a layer's key and the moment its bytes
/// were written. The change time is left out on purpose: hard-linking a file (how the
/// artifact store materialises a stage's outputs for a new run) changes it, and would
/// make every run re-hash an unchanged model; the path is left out for the same reason.
public struct FileStamp: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedSeconds: Int64
    public var modifiedNanoseconds: Int64
    /// The permission and type bits.
    public var mode: UInt32

    /// The stamp of `path` itself (a symlink's own, not its target's).
    public init(path: String) throws(ImageError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw ImageError.system("read the attributes of", path) }
        self.init(info)
    }

    /// The stamp of an open file.
    init(descriptor: Int32, path: String) throws(ImageError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw ImageError.system("read the attributes of", path) }
        self.init(info)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Darwin)
        modifiedSeconds = Int64(info.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtimespec.tv_nsec)
        #else
        modifiedSeconds = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
        #endif
        mode = UInt32(info.st_mode)
    }

    var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    var isSymlink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }
    /// Whether anyone may execute it: such a file goes into a layer as 0755, others 0644.
    var isExecutable: Bool { mode & 0o111 != 0 }

    /// Whether the content may differ from when `other` was taken (the mode is not
    /// content).
    func sameContent(as other: FileStamp) -> Bool {
        device == other.device && inode == other.inode && size == other.size
            && modifiedSeconds == other.modifiedSeconds && modifiedNanoseconds == other.modifiedNanoseconds
    }

    /// The memo's key text.
    var memoKey: String {
        "\(device):\(inode):\(size):\(modifiedSeconds).\(modifiedNanoseconds)"
    }
}
