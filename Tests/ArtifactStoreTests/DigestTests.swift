import Canonical
import Foundation
import Testing
@testable import ArtifactStore

@Suite("Digests and hashing")
struct DigestTests {
    @Test("a digest parses only from sha256:<64 hex>, lowering uppercase")
    func parsing() {
        let hex = String(repeating: "ab", count: 32)
        #expect(Digest(parsing: "sha256:" + hex)?.hex == hex)
        #expect(Digest(parsing: "sha256:" + hex.uppercased())?.hex == hex)
        #expect(Digest(parsing: hex) == nil)
        #expect(Digest(parsing: "sha256:" + hex.dropLast()) == nil)
        #expect(Digest(parsing: "sha256:" + hex.dropLast() + "g") == nil)
        #expect(Digest(parsing: "md5:" + hex) == nil)
        #expect(Digest(hex: hex).description == "sha256:" + hex)
    }

    @Test("a digest encodes as its sha256: string and decodes back")
    func codable() throws {
        let digest = Digest(hex: String(repeating: "0f", count: 32))
        let json = try JSONEncoder().encode([digest])
        #expect(String(decoding: json, as: UTF8.self) == "[\"sha256:\(digest.hex)\"]")
        #expect(try JSONDecoder().decode([Digest].self, from: json) == [digest])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Digest].self, from: Data("[\"nope\"]".utf8)) }
    }

    @Test("the hasher gives the standard SHA-256 test vectors, in one piece or many")
    func vectors() {
        #expect(SHA256Hasher.digest(of: Array("abc".utf8)).hex
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Hasher.digest(of: [UInt8]()).hex
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var hasher = SHA256Hasher()
        for piece in ["ab", "c"] { hasher.update(contentsOf: piece.utf8) }
        #expect(hasher.finalize().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a file's digest equals sha256sum's, across several read chunks, with progress")
    func fileDigest() throws {
        let fixture = try StoreFixture()
        let path = try fixture.write("big.bin", String(repeating: "mlpipe-0123456789", count: 600_000))  // ~10 MB
        let seen = Progress()
        let (digest, size) = try FileDigest.sha256(path: path) { seen.record($0) }
        #expect(digest.description == (try StoreFixture.sha256sum(path)))
        #expect(size == 10_200_000)
        #expect(seen.values.last == size)
        #expect(seen.values.count >= 3)
        let error = #expect(throws: StoreError.self) { try FileDigest.sha256(path: fixture.folder + "/missing") }
        #expect(error?.code == .notFound)
    }
}

/// Collects progress reports from the hashing thread.
final class Progress: @unchecked Sendable {
    // Safe: `recorded` is only touched under `lock`.
    private let lock = NSLock()
    private var recorded: [Int64] = []

    func record(_ value: Int64) {
        lock.lock(); defer { lock.unlock() }
        recorded.append(value)
    }

    var values: [Int64] {
        lock.lock(); defer { lock.unlock() }
        return recorded
    }
}
