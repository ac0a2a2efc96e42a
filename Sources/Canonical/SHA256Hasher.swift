import CCrypto

/// An incremental SHA-256, computed by libcrypto (the code behind `openssl dgst`,
/// which uses the CPU's SHA extensions where it has them).
///
/// Non-copyable because it owns a libcrypto context: a copy would share it.
/// `finalize()` consumes the hasher, so it cannot be updated afterwards.
///
///     var hasher = SHA256Hasher()
///     hasher.update(contentsOf: Array("hello".utf8))
///     let digest = hasher.finalize()   // sha256:2cf24dba…
public struct SHA256Hasher: ~Copyable {
    private let context: OpaquePointer

    /// A hasher that has seen no bytes yet.
    public init() {
        // EVP_MD_CTX_new only fails when memory is exhausted, like any allocation.
        context = EVP_MD_CTX_new()!
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Adds `bytes` to the digest.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Adds a sequence of bytes (an `Array`, `String.UTF8View`, `Data`…) to the digest.
    public mutating func update<Bytes: Sequence<UInt8>>(contentsOf bytes: Bytes) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// The digest of everything added.
    public consuming func finalize() -> Digest {
        var raw = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &raw, &length)
        return Digest(hex: SHA256Hasher.hex(raw))
    }

    /// The digest of `bytes`, in one call.
    public static func digest<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> Digest {
        var hasher = SHA256Hasher()
        hasher.update(contentsOf: bytes)
        return hasher.finalize()
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
