import AsyncHTTPClient
import Foundation
import NIOCore

/// A range of a blob file as a request body: read with `pread` into buffers of a fixed
/// size, one at a time as the HTTP client asks for them, so an upload holds a bounded
/// amount of memory whatever the blob's size (async-http-client pulls the next buffer
/// only when the connection has taken the previous one).
struct RegistryFileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let file: RegistryOpenFile
    let offset: Int64
    let length: Int64
    let bufferSize: Int

    /// Opens `path` for the range `offset ..< offset + length`.
    init(path: String, offset: Int64, length: Int64, bufferSize: Int) throws {
        self.file = try RegistryOpenFile(path: path)
        self.offset = offset
        self.length = length
        self.bufferSize = bufferSize
    }

    /// The HTTP body for the range, with its length.
    func body() -> (HTTPClientRequest.Body, Int64) {
        (.stream(self, length: .known(length)), length)
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(file: file, position: offset, end: offset + length, bufferSize: bufferSize)
    }

    struct Iterator: AsyncIteratorProtocol {
        let file: RegistryOpenFile
        var position: Int64
        let end: Int64
        let bufferSize: Int

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(bufferSize), end - position))
            let buffer = try file.read(count: count, at: position)
            position += Int64(count)
            return buffer
        }
    }
}

/// An open, read-only file descriptor, closed when the last body using it is gone.
///
/// Sendable without a lock: the descriptor never changes after `init`, and `pread` takes
/// its offset as an argument, so concurrent reads do not disturb each other.
final class RegistryOpenFile: Sendable {
    let descriptor: Int32
    let path: String

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RegistryError.layout(path, "cannot open the blob: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    /// Exactly `count` bytes at `offset`; a file that ends early is an error (it changed
    /// since the layout was read).
    func read(count: Int, at offset: Int64) throws -> ByteBuffer {
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
            if got == 0 {
                let reason = failure == 0 ? "the file is shorter than its descriptor says"
                    : String(cString: strerror(failure))
                throw RegistryError.layout(path, "cannot read the blob at byte \(offset + Int64(done)): \(reason)")
            }
            done += got
        }
        return buffer
    }
}
