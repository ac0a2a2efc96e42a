#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Canonical
import CLibGit2

/// Computes git blob ids of working-tree files: SHA-1 over `"blob <size>\0"` and
/// the bytes, as `git hash-object` does (without clean filters such as CRLF
/// conversion or Git LFS).
///
/// The file is streamed through one reusable buffer, never loaded whole, so a
/// hasher per thread can hash many files without allocating. A symbolic link
/// hashes its target path, as git stores it.
struct BlobHasher: ~Copyable {
    private let bufferSize: Int
    private var sha1 = SHA1Hasher()
    private var buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// 1 MiB by default: large enough that syscall overhead vanishes. The buffer
    /// and the digest context are allocated on first use, so a hasher that is
    /// never needed costs nothing.
    init(bufferSize: Int = 1 << 20) {
        self.bufferSize = bufferSize
    }

    deinit {
        if buffer.baseAddress != nil { buffer.deallocate() }
    }

    /// The blob id of the file at `path`, relative to the folder open as `directory`
    /// (or absolute). `displayPath` names it in errors.
    mutating func hashFile(atPath path: UnsafePointer<CChar>, in directory: Int32,
                           displayPath: @autoclosure () -> String) throws(GitError) -> git_oid {
        if buffer.baseAddress == nil {
            buffer = .allocate(byteCount: bufferSize, alignment: 64)
        }
        var info = stat()
        guard fstatat(directory, path, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw GitError.io("read", path: displayPath(), errno: errno)
        }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            let count = readlinkat(directory, path, buffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                   buffer.count)
            guard count >= 0 else { throw GitError.io("read the link", path: displayPath(), errno: errno) }
            start(size: count)
            sha1.update(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
            return finish()
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GitError(.io, "'\(displayPath())' is not a regular file; only files and symbolic links have blob ids",
                           path: displayPath())
        }
        let fd = openat(directory, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw GitError.io("open", path: displayPath(), errno: errno) }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { throw GitError.io("read", path: displayPath(), errno: errno) }
        let expected = Int(info.st_size)
        start(size: expected)
        var total = 0
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw GitError.io("read", path: displayPath(), errno: errno)
            }
            if count == 0 { break }
            total += count
            guard total <= expected else { break }
            sha1.update(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
        }
        guard total == expected else {
            throw GitError(.io, "'\(displayPath())' changed size while it was being hashed; retry once the process writing it is done",
                           path: displayPath())
        }
        return finish()
    }

    /// The blob id of the file at `path`, relative to the folder open as `directory`.
    mutating func hashFile(atPath path: String, in directory: Int32) throws(GitError) -> git_oid {
        let result: Result<git_oid, GitError> = path.withCString { cPath in
            Result { () throws(GitError) in try hashFile(atPath: cPath, in: directory, displayPath: path) }
        }
        return try result.get()
    }

    private mutating func start(size: Int) {
        sha1.reset()
        var header = "blob \(size)\0"
        header.withUTF8 { bytes in sha1.update(UnsafeRawBufferPointer(bytes)) }
    }

    private mutating func finish() -> git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { raw in sha1.finalize(into: raw) }
        return oid
    }
}
