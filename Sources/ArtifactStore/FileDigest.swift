#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 of files, streamed at the speed of `openssl dgst -sha256`.
///
/// Model files run to gigabytes, so a file is never loaded whole: it is read in
/// 1 MiB chunks into one buffer allocated per call, and each chunk goes straight
/// to libcrypto. Large reads keep system-call overhead negligible next to hashing.
public enum FileDigest {
    /// Bytes per read.
    static let chunkSize = 1 << 20

    /// The digest and size of the file at `path` (symbolic links are followed).
    /// `progress`, if given, is called after each chunk with the bytes hashed so far.
    public static func sha256(path: String,
                              progress: (@Sendable (Int64) -> Void)? = nil) throws(StoreError) -> (digest: Digest, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.system("read", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StoreError.system("read", path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StoreError(.unsupportedFile, "'\(path)' is not a regular file; only files can be hashed", path: path)
        }
        return try stream(from: fd, path: path, to: nil, progress: progress)
    }

    /// Reads `fd` to its end, hashing every byte and, when `target` is given,
    /// writing it there too (a copy that costs one read of the source).
    static func stream(from fd: Int32, path: String, to target: (fd: Int32, path: String)?,
                       progress: (@Sendable (Int64) -> Void)?) throws(StoreError) -> (digest: Digest, size: Int64) {
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var hasher = SHA256Hasher()
        var total: Int64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw StoreError.system("read", path)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(chunk)
            if let target { try writeAll(chunk, to: target.fd, path: target.path) }
            total += Int64(count)
            progress?(total)
        }
        return (hasher.finalize(), total)
    }

    static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, path: String) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError.system("write", path)
            }
            offset += written
        }
    }
}
