import Canonical
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies a file into a package while hashing it: one read of the model gives both the
/// copy and the digest the manifest records, so the digest is of the bytes that were
/// written, whatever happens to the source afterwards.
///
/// New files are created with mode 0644 whatever the source's mode (a package's bytes do
/// not include modes, and an image layer normalises them anyway). Reads go through one
/// 1 MiB buffer, so memory does not grow with the model.
enum FileCopy {
    /// Bytes per read.
    static let chunkSize = 1 << 20

    /// Copies `source` to the new file `target` (its folder must exist) and returns the
    /// SHA-256 and size of what was copied. `shown` names the source in messages.
    static func copy(from source: String, to target: String, shown: String) throws(PackageError) -> (Digest, Int64) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw PackageError.system("read", shown) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw PackageError.system("create", target) }
        var closed = false
        defer { if !closed { close(output) } }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var hasher = SHA256Hasher()
        var total: Int64 = 0
        while true {
            let count = read(input, buffer.baseAddress, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw PackageError.system("read", shown)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(chunk)
            try writeAll(chunk, to: output, path: target)
            total += Int64(count)
        }
        closed = true
        guard close(output) == 0 else { throw PackageError.system("write", target) }
        return (hasher.finalize(), total)
    }

    /// Writes `bytes` to the new file `path` (mode 0644).
    static func create(_ path: String, bytes: [UInt8]) throws(PackageError) {
        let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw PackageError.system("create", path) }
        var closed = false
        defer { if !closed { close(output) } }
        let failure = bytes.withUnsafeBytes { raw -> PackageError? in
            do throws(PackageError) {
                try writeAll(raw, to: output, path: path)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        closed = true
        guard close(output) == 0 else { throw PackageError.system("write", path) }
    }

    /// The SHA-256 and size of the file at `path`, streamed.
    static func digest(of path: String) throws(PackageError) -> (Digest, Int64) {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw PackageError.system("read", path) }
        defer { close(input) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var hasher = SHA256Hasher()
        var total: Int64 = 0
        while true {
            let count = read(input, buffer.baseAddress, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw PackageError.system("read", path)
            }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += Int64(count)
        }
        return (hasher.finalize(), total)
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, path: String) throws(PackageError) {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw PackageError.system("write", path)
            }
            offset += written
        }
    }
}
