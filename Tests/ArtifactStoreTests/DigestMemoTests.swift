import Canonical
import Foundation
import Testing
@testable import ArtifactStore

/// The store's memo of large files' digests: an unchanged file stored again is not read.
@Suite("The store's digest memo")
struct DigestMemoTests {
    /// Bytes this thread has read with read(2) and friends so far (`rchar` of
    /// /proc/thread-self/io): the store is synchronous, so its reads are this thread's.
    static func bytesRead() throws -> Int64 {
        let text = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("rchar:") })
        return try #require(Int64(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces)))
    }

    @Test("a large file stored again through a new hard link (a rebuilt layer) is not read again")
    func unchangedHardLinkNotReread() throws {
        let fixture = try StoreFixture()
        let source = try fixture.write("cache/layer.tar", bytes: StoreFixture.bytes(8 << 20))
        let first = try fixture.store.store(path: source)
        let again = fixture.folder + "/work/run2/layer.tar"
        try FileManager.default.createDirectory(atPath: fixture.folder + "/work/run2", withIntermediateDirectories: true)
        try FileManager.default.linkItem(atPath: source, toPath: again)

        let before = try Self.bytesRead()
        let second = try fixture.store.store(path: again)
        let read = try Self.bytesRead() - before
        #expect(second == first)
        #expect(read < 1 << 20, "storing the unchanged 8 MiB file again read \(read) bytes")
        #expect(try fixture.temporaryFiles().isEmpty)
    }

    @Test("a large copy that was not linked (hard links off) is not read again while unchanged")
    func unchangedCopyNotReread() throws {
        let fixture = try StoreFixture(hardLinksSources: false)
        let source = try fixture.write("model.bin", bytes: StoreFixture.bytes(4 << 20, seed: 3))
        let first = try fixture.store.store(path: source)
        let before = try Self.bytesRead()
        #expect(try fixture.store.store(path: source) == first)
        #expect(try Self.bytesRead() - before < 1 << 20)
    }

    @Test("a large file rewritten since with the same size is hashed again and stored as its new content")
    func changedFileHashedAgain() throws {
        let fixture = try StoreFixture(hardLinksSources: false)
        let source = try fixture.write("model.bin", bytes: StoreFixture.bytes(2 << 20, seed: 1))
        let first = try fixture.store.store(path: source)
        try Data(StoreFixture.bytes(2 << 20, seed: 2)).write(to: URL(fileURLWithPath: source))
        let second = try fixture.store.store(path: source)
        #expect(second.digest != first.digest)
        #expect(second.digest.description == (try StoreFixture.sha256sum(source)))
    }

    @Test("a remembered digest whose object was collected is not trusted: the file is stored again")
    func collectedObjectStoredAgain() throws {
        let fixture = try StoreFixture(hardLinksSources: false)
        let source = try fixture.write("model.bin", bytes: StoreFixture.bytes(2 << 20, seed: 5))
        let first = try fixture.store.store(path: source)
        #expect(try fixture.store.collectGarbage(keeping: []).removed == 1)
        #expect(try fixture.memoEntries() == 0)
        let second = try fixture.store.store(path: source)
        #expect(second == first)
        #expect(fixture.store.contains(first.digest))
    }
}

extension StoreFixture {
    /// The number of files in the store's digest memo.
    func memoEntries() throws -> Int {
        let memo = store.root + "/memo"
        guard FileManager.default.fileExists(atPath: memo) else { return 0 }
        return try FileManager.default.subpathsOfDirectory(atPath: memo).filter { $0.contains("/") }.count
    }
}
