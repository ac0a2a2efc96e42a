import AsyncHTTPClient
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A range of a file as a request body, read with `pread` into buffers of a fixed size,
/// one at a time as the HTTP client asks for them: an upload holds a few buffers whatever
/// the file's size (async-http-client pulls the next buffer only when the connection has
/// taken the previous one).
public struct FileRangeBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    let file: ReadOnlyFile
    let offset: Int64
    let length: Int64
    let bufferSize: Int

    /// Opens `path` for the range `offset ..< offset + length`.
    public init(path: String, offset: Int64, length: Int64, bufferSize: Int) throws(FileReadError) {
        self.file = try ReadOnlyFile(path: path)
        self.offset = offset
        self.length = length
        self.bufferSize = bufferSize
    }

    /// The HTTP body for the range, with its length.
    public func body() -> (HTTPClientRequest.Body, Int64) {
        (.stream(self, length: .known(length)), length)
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(file: file, position: offset, end: offset + length, bufferSize: bufferSize)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let file: ReadOnlyFile
        var position: Int64
        let end: Int64
        let bufferSize: Int

        public mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(bufferSize), end - position))
            let buffer = try file.read(count: count, at: position)
            position += Int64(count)
            return buffer
        }
    }
}

/// Why a file could not be read for a body; each client words it in its own error.
public struct FileReadError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public enum Kind: Sendable, Equatable {
        /// `open` failed with `errno`.
        case open(Int32)
        /// `pread` failed with `errno`.
        case read(Int32)
        /// The file ended before the range did: it changed since its size was taken.
        case shorter
    }

    public let kind: Kind
    public let path: String
    /// The byte where reading stopped (0 for `open`).
    public let offset: Int64

    /// "cannot open: No such file or directory", "the file ended at byte 42, before the
    /// size it had when the upload started".
    public var description: String {
        switch kind {
        case .open(let code): "cannot open \(path): \(String(cString: strerror(code)))"
        case .read(let code): "cannot read \(path) at byte \(offset): \(String(cString: strerror(code)))"
        case .shorter: "\(path) ended at byte \(offset), before the size it had when the upload started (it changed)"
        }
    }
}

/// An open, read-only file, closed when the last body using it is gone.
///
/// Sendable without a lock: the descriptor never changes after `init`, and `pread` takes
/// its offset as an argument, so concurrent reads do not disturb each other.
public final class ReadOnlyFile: Sendable {
    let descriptor: Int32
    public let path: String

    public init(path: String) throws(FileReadError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileReadError(kind: .open(errno), path: path, offset: 0) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    /// Exactly `count` bytes at `offset`; a file that ends early is an error.
    public func read(count: Int, at offset: Int64) throws(FileReadError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var done = 0
        while done < count {
            var failure: Int32 = 0
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { raw -> Int in
                let result = pread(descriptor, raw.baseAddress, count - done, off_t(offset) + off_t(done))
                if result < 0 { failure = errno }
                return max(0, result)
            }
            if failure == EINTR { continue }
            if failure != 0 { throw FileReadError(kind: .read(failure), path: path, offset: offset + Int64(done)) }
            if got == 0 { throw FileReadError(kind: .shorter, path: path, offset: offset + Int64(done)) }
            done += got
        }
        return buffer
    }
}
