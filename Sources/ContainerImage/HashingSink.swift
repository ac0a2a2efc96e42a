import Canonical

/// Hashes and counts the bytes that pass through it on their way to the next sink.
///
/// The layer writer has two: one on the tar stream (the layer's `diff_id`) and one on
/// the compressed stream (the blob's digest), so that both come out of one pass.
final class HashingSink: ByteSink {
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private let next: (any ByteSink)?
    /// Bytes seen so far.
    private(set) var count: Int64 = 0

    /// A sink that hashes and then hands the bytes to `next`, if any.
    init(next: (any ByteSink)?) {
        self.next = next
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        hasher?.update(bytes)
        count += Int64(bytes.count)
        try next?.write(bytes)
    }

    /// The digest of everything written; call once, at the end.
    func finalize() -> Digest {
        guard let hasher = hasher.take() else {
            preconditionFailure("HashingSink.finalize called twice")
        }
        return hasher.finalize()
    }
}
