#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something bytes are written to, in order: a file, a hasher, a compressor.
///
/// The layer writer is a chain of these (tar → hash → gzip → hash → file), so a 1 GiB
/// file passes through one fixed buffer instead of being held in memory.
protocol ByteSink: AnyObject {
    /// Takes all of `bytes`, or throws.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError)
}

extension ByteSink {
    /// Writes a byte array.
    func write(_ bytes: [UInt8]) throws(ImageError) {
        let result: Result<Void, ImageError> = bytes.withUnsafeBytes { raw in
            do throws(ImageError) { try write(raw) } catch { return .failure(error) }
            return .success(())
        }
        try result.get()
    }
}

/// A new file written through a fixed buffer with write(2), every result checked.
///
/// Created exclusively (`O_EXCL`), so two writers never share a temporary name. Short
/// writes and `EINTR` are retried; any other failure (a full disk) is thrown with the
/// path, and the caller removes the partial file. Not for sharing between tasks.
final class OutputFile: ByteSink {
    /// The file's path.
    let path: String
    private var descriptor: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    /// Bytes written so far (including what is still buffered).
    private(set) var count: Int64 = 0

    /// Creates `path`, which must not exist yet, with mode 0644.
    init(creating path: String, bufferSize: Int = 256 << 10) throws(ImageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ImageError.system("create", path) }
        self.path = path
        descriptor = fd
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        if descriptor >= 0 { _ = SystemCall.close(descriptor) }
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        count += Int64(bytes.count)
        if bytes.count >= buffer.count {
            try flush()
            try writeAll(bytes)
            return
        }
        if buffered + bytes.count > buffer.count { try flush() }
        UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<buffered + bytes.count]).copyMemory(from: bytes)
        buffered += bytes.count
    }

    /// Writes what is buffered, flushes the file to disk and closes it.
    func close(sync: Bool = true) throws(ImageError) {
        try flush()
        if sync, fsync(descriptor) != 0 { throw ImageError.system("write", path) }
        let fd = descriptor
        descriptor = -1
        guard SystemCall.close(fd) == 0 else { throw ImageError.system("close", path) }
    }

    private func flush() throws(ImageError) {
        guard buffered > 0 else { return }
        try writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]))
        buffered = 0
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        var offset = 0
        while offset < bytes.count {
            let written = SystemCall.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw ImageError.system("write", path)
            }
            offset += written
        }
    }
}

