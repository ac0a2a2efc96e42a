import AsyncHTTPClient
import Foundation
import NIOCore

/// A range of a file as a request body, read with `pread` one buffer at a time as the
/// HTTP client asks for it: an upload holds a few buffers, whatever the file's size.
struct S3FileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let file: S3OpenFile
    let offset: Int64
    let length: Int64
    let bufferSize: Int

    /// The HTTP body for `offset ..< offset + length` of `path`, with its length.
    static func body(path: String, offset: Int64, length: Int64,
                     bufferSize: Int) throws(S3Error) -> (HTTPClientRequest.Body, Int64) {
        let sequence = S3FileBody(file: try S3OpenFile(path: path), offset: offset, length: length, bufferSize: bufferSize)
        return (.stream(sequence, length: .known(length)), length)
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(file: file, position: offset, end: offset + length, bufferSize: bufferSize)
    }

    struct Iterator: AsyncIteratorProtocol {
        let file: S3OpenFile
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

/// An open, read-only file, closed when the last body using it is gone.
///
/// Sendable without a lock: the descriptor never changes after `init`, and `pread`
/// takes its offset as an argument, so concurrent reads do not disturb each other.
final class S3OpenFile: Sendable {
    let descriptor: Int32
    let path: String

    init(path: String) throws(S3Error) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw S3Error(.local, "cannot open \(path) to upload it: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    /// Exactly `count` bytes at `offset`; a file that ends early is an error (it changed).
    func read(count: Int, at offset: Int64) throws(S3Error) -> ByteBuffer {
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
            if failure != 0 {
                throw S3Error(.local, "cannot read \(path) to upload it: \(String(cString: strerror(failure)))")
            }
            if got == 0 { throw S3Error(.local, "\(path) became shorter while it was uploaded") }
            done += got
        }
        return buffer
    }
}
