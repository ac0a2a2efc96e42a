import CCrypto

/// An incremental SHA-1, computed by libcrypto: the hash of git's object ids and of
/// its index file's checksum. Nothing of mlpipe's own is named by SHA-1.
///
/// Its libcrypto context is made on first use and reused after ``reset()``, so that a
/// hasher per thread hashes many files without allocating. Through `EVP_sha1()`, not
/// the one-shot `SHA1()`: OpenSSL 3 implements `SHA1()` by fetching the algorithm by
/// name, which costs more than hashing a small file.
public struct SHA1Hasher: ~Copyable {
    private var context: OpaquePointer?

    /// A hasher that has seen no bytes yet.
    public init() {}

    deinit {
        if let context { EVP_MD_CTX_free(context) }
    }

    /// Starts a new digest, forgetting what was added.
    public mutating func reset() {
        if context == nil {
            // EVP_MD_CTX_new only fails when memory is exhausted, like any allocation.
            context = EVP_MD_CTX_new()!
        }
        EVP_DigestInit_ex(context, EVP_sha1(), nil)
    }

    /// Adds `bytes` to the digest (after ``reset()``).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if context == nil { reset() }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Writes the 20 bytes of the digest to `out` and leaves the hasher to be reset.
    public mutating func finalize(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 20, "a SHA-1 digest is 20 bytes")
        if context == nil { reset() }
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
    }

    /// The SHA-1 of `bytes`, in one call.
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA1Hasher()
        hasher.reset()
        hasher.update(bytes)
        var digest = [UInt8](repeating: 0, count: 20)
        digest.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        return digest
    }
}
