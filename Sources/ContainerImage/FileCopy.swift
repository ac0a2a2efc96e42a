#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Puts a blob's bytes at a new path as cheaply as the file system allows: a hard link
/// (no bytes moved; blobs are never written in place, so sharing an inode is safe), else
/// a copy-on-write clone, else a copy through a 1 MiB buffer.
enum FileCopy {
    /// Makes `target` (which must not exist) hold the bytes of `source`.
    static func linkOrCopy(from source: String, to target: String) throws(ImageError) {
        if link(source, target) == 0 { return }
        try copy(from: source, to: target)
    }

    /// Copies `source` to the new file `target`; a partial copy is removed.
    static func copy(from source: String, to target: String) throws(ImageError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ImageError.system("open", source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw ImageError.system("create", target) }
        var failure: ImageError?
        #if os(Linux)
        // FICLONE (_IOW(0x94, 9, int)): a copy-on-write clone on btrfs, XFS, bcachefs.
        if ioctl(output, 0x4004_9409, input) != 0 {
            failure = plainCopy(input, output, source: source, target: target)
        }
        #else
        failure = plainCopy(input, output, source: source, target: target)
        #endif
        if failure == nil, fsync(output) != 0 { failure = ImageError.system("write", target) }
        if close(output) != 0, failure == nil { failure = ImageError.system("close", target) }
        if let failure {
            unlink(target)
            throw failure
        }
    }

    /// read(2) and write(2) through a 1 MiB buffer.
    private static func plainCopy(_ input: Int32, _ output: Int32, source: String, target: String) -> ImageError? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let count = SystemCall.read(input, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                return ImageError.system("read", source)
            }
            if count == 0 { return nil }
            var offset = 0
            while offset < count {
                let written = SystemCall.write(output, buffer.baseAddress! + offset, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return ImageError.system("write", target)
                }
                offset += written
            }
        }
    }
}
