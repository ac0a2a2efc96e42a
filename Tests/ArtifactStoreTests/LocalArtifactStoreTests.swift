import Canonical
import Dispatch
import Foundation
import Testing
@testable import ArtifactStore

@Suite("The local artifact store")
struct LocalArtifactStoreTests {
    @Test("a file is stored under its sha256sum digest, read-only, and a small one is materialized as a writable copy")
    func fileRoundTrip() throws {
        let fixture = try StoreFixture()
        let source = try fixture.write("model.onnx", "weights\n")
        let expected = try StoreFixture.sha256sum(source)
        let stored = try fixture.store.store(path: source)
        #expect(stored == StoredObject(digest: Digest(parsing: expected)!, kind: .file, size: 8))
        let objectPath = fixture.store.path(of: stored.digest)
        #expect(objectPath.hasSuffix("/sha256/" + stored.digest.hex.prefix(2) + "/" + stored.digest.hex.dropFirst(2)))
        #expect(try StoreFixture.permissions(objectPath) == 0o444)
        #expect(try StoreFixture.inode(objectPath) != (try StoreFixture.inode(source)))   // copied: under 1 MiB
        #expect(fixture.store.contains(stored.digest))

        let destination = fixture.folder + "/runs/42/train/model.onnx"
        try fixture.store.materialize(stored, at: destination)
        #expect(try fixture.read(destination) == "weights\n")
        #expect(try StoreFixture.inode(destination) != (try StoreFixture.inode(objectPath)))
        #expect(try StoreFixture.permissions(destination) == 0o644)
        #expect(try fixture.temporaryFiles().isEmpty)
    }

    @Test("a large file on the store's file system is stored by hard link and materialized as one, read-only")
    func largeFileRoundTrip() throws {
        let fixture = try StoreFixture()
        let source = try fixture.write("model.bin", bytes: StoreFixture.bytes(2 << 20))
        let stored = try fixture.store.store(path: source)
        #expect(stored.digest.description == (try StoreFixture.sha256sum(source)))
        let objectPath = fixture.store.path(of: stored.digest)
        #expect(try StoreFixture.inode(objectPath) == (try StoreFixture.inode(source)))   // linked, not copied
        #expect(try StoreFixture.permissions(source) == 0o444)

        let destination = fixture.folder + "/runs/42/train/model.bin"
        try fixture.store.materialize(stored, at: destination)
        #expect(try StoreFixture.inode(destination) == (try StoreFixture.inode(objectPath)))
        #expect(try fixture.temporaryFiles().isEmpty)
    }

    @Test("without hard links the source is copied and stays writable")
    func copiesWhenAsked() throws {
        let fixture = try StoreFixture(hardLinksSources: false)
        let source = try fixture.write("a.txt", "a\n")
        let stored = try fixture.store.store(path: source)
        #expect(try StoreFixture.inode(fixture.store.path(of: stored.digest)) != (try StoreFixture.inode(source)))
        #expect(try StoreFixture.permissions(source) == 0o644)
        #expect(try StoreFixture.permissions(fixture.store.path(of: stored.digest)) == 0o444)
    }

    @Test("a folder is stored as its files plus a canonical manifest, and rebuilt with its executable bits")
    func folderRoundTrip() throws {
        let fixture = try StoreFixture()
        try fixture.write("out/model/weights.bin", "w")
        try fixture.write("out/serve.sh", "#!/bin/sh\n", executable: true)
        try fixture.write("out/empty", "")
        let stored = try fixture.store.store(path: fixture.folder + "/work/out")
        #expect(stored.kind == .tree)
        #expect(stored.size == 11)

        let sha = { (text: String) in SHA256Hasher.digest(of: Array(text.utf8)).description }
        let manifest = "[{\"digest\":\"\(sha(""))\",\"executable\":false,\"path\":\"empty\",\"size\":0},"
            + "{\"digest\":\"\(sha("w"))\",\"executable\":false,\"path\":\"model/weights.bin\",\"size\":1},"
            + "{\"digest\":\"\(sha("#!/bin/sh\n"))\",\"executable\":true,\"path\":\"serve.sh\",\"size\":10}]"
        #expect(try fixture.read(fixture.store.path(of: stored.digest)) == manifest)
        #expect(stored.digest.description == sha(manifest))
        #expect(try fixture.store.manifest(of: stored.digest).entries.map(\.path) == ["empty", "model/weights.bin", "serve.sh"])

        let destination = fixture.folder + "/restored/out"
        try fixture.store.materialize(stored, at: destination)
        #expect(try fixture.read(destination + "/model/weights.bin") == "w")
        #expect(try fixture.read(destination + "/serve.sh") == "#!/bin/sh\n")
        #expect(try fixture.read(destination + "/empty") == "")
        #expect(try StoreFixture.permissions(destination + "/serve.sh") == 0o755)
        // The same folder stored again gives the same digest.
        #expect(try fixture.store.store(path: destination) == stored)
    }

    @Test("a link to a file inside a stored folder is stored as the file it points to")
    func linksAreFollowed() throws {
        for hardLinks in [true, false] {
            let fixture = try StoreFixture(hardLinksSources: hardLinks)
            try fixture.write("out/real.txt", "real")
            try FileManager.default.createSymbolicLink(atPath: fixture.folder + "/work/out/alias.txt",
                                                       withDestinationPath: "real.txt")
            let stored = try fixture.store.store(path: fixture.folder + "/work/out")
            let manifest = try fixture.store.manifest(of: stored.digest)
            #expect(manifest.entries.map(\.digest) == Array(repeating: SHA256Hasher.digest(of: Array("real".utf8)), count: 2))
            #expect(try fixture.store.verify().isEmpty)
            try fixture.store.materialize(stored, at: fixture.folder + "/copy")
            let attributes = try FileManager.default.attributesOfItem(atPath: fixture.folder + "/copy/alias.txt")
            #expect(attributes[.type] as? FileAttributeType == .typeRegular)
            #expect(try fixture.read(fixture.folder + "/copy/alias.txt") == "real")
        }
    }

    @Test("materializing replaces what was at the destination, and a missing object is reported")
    func materializeReplaces() throws {
        let fixture = try StoreFixture()
        try fixture.write("v1/a.txt", "1")
        try fixture.write("v2/b.txt", "2")
        let first = try fixture.store.store(path: fixture.folder + "/work/v1")
        let second = try fixture.store.store(path: fixture.folder + "/work/v2")
        let destination = fixture.folder + "/out"
        try fixture.store.materialize(first, at: destination)
        try fixture.store.materialize(second, at: destination)
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == ["b.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.folder).sorted() == ["objects", "out", "work"])

        let missing = StoredObject(digest: SHA256Hasher.digest(of: Array("never stored".utf8)), kind: .file, size: 1)
        let error = #expect(throws: StoreError.self) { try fixture.store.materialize(missing, at: destination) }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("re-run the stage") == true)
    }

    @Test("many writers storing the same content at once all get the one object")
    func concurrentStore() throws {
        let fixture = try StoreFixture()
        let content = String(repeating: "same bytes ", count: 400_000)   // 4.4 MB: hashing takes a while
        let sources = try (0..<12).map { try fixture.write("copy\($0).bin", content) }
        let root = fixture.store.root
        let results = Collected()
        // Separate store instances open separate lock descriptors, as processes do.
        DispatchQueue.concurrentPerform(iterations: sources.count) { index in
            let result = Result { () throws(StoreError) -> StoredObject in
                try LocalArtifactStore(root: root, hardLinksSources: index % 2 == 0).store(path: sources[index])
            }
            results.append(result)
        }
        let digests = Set(try results.values.map { try $0.get().digest })
        #expect(digests.count == 1)
        #expect(try fixture.store.objects().count == 1)
        #expect(try fixture.store.verify().isEmpty)
        #expect(try fixture.temporaryFiles().isEmpty)
    }

    @Test("a failed store leaves no temporary file behind")
    func failedStoreCleansUp() throws {
        let fixture = try StoreFixture()
        let source = try fixture.write("a.txt", "content")
        let digest = try StoreFixture.sha256sum(source).dropFirst(7)
        // A file squatting where the object's folder must go makes the rename fail.
        try Data().write(to: URL(fileURLWithPath: fixture.store.root + "/sha256/" + digest.prefix(2)))
        for hardLinks in [true, false] {
            let store = try LocalArtifactStore(root: fixture.store.root, hardLinksSources: hardLinks)
            let error = #expect(throws: StoreError.self) { try store.store(path: source) }
            #expect(error?.path?.contains("/sha256/" + digest.prefix(2)) == true)
            #expect(try fixture.temporaryFiles().isEmpty)
        }
        // A folder with a dangling link fails with a message naming it.
        try fixture.write("out/ok.txt", "ok")
        try FileManager.default.createSymbolicLink(atPath: fixture.folder + "/work/out/dangling", withDestinationPath: "nowhere")
        let error = #expect(throws: StoreError.self) { try fixture.store.store(path: fixture.folder + "/work/out") }
        #expect(error?.code == .unsupportedFile)
        #expect(error?.message.contains("dangling") == true)
        #expect(try fixture.temporaryFiles().isEmpty)
    }

    @Test("verify finds a tampered object and a tree whose file is gone")
    func verifyFindsDamage() throws {
        let fixture = try StoreFixture()
        let file = try fixture.store.store(path: try fixture.write("a.txt", "original"))
        try fixture.write("tree/b.txt", "b")
        let tree = try fixture.store.store(path: fixture.folder + "/work/tree")
        #expect(try fixture.store.verify().isEmpty)

        let objectPath = fixture.store.path(of: file.digest)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: objectPath)
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: objectPath))
        let bDigest = SHA256Hasher.digest(of: Array("b".utf8))
        try FileManager.default.removeItem(atPath: fixture.store.path(of: bDigest))

        let problems = try fixture.store.verify()
        #expect(problems.count == 2)
        let tampered = problems.first { $0.digest == file.digest }
        #expect(tampered?.actual == SHA256Hasher.digest(of: Array("tampered".utf8)))
        let broken = problems.first { $0.digest == tree.digest }
        #expect(broken?.actual == nil)
        #expect(broken?.message.contains("'b.txt'") == true)
    }

    @Test("garbage collection keeps the kept set with its trees' files, and stale temporary files go")
    func garbageCollection() throws {
        let fixture = try StoreFixture()
        try fixture.write("keep/inner.txt", "inner")
        let tree = try fixture.store.store(path: fixture.folder + "/work/keep")
        let kept = try fixture.store.store(path: try fixture.write("kept.txt", "kept"))
        let dropped = try fixture.store.store(path: try fixture.write("dropped.txt", "dropped!"))
        let stale = fixture.store.root + "/tmp/crashed-writer.tmp"
        let fresh = fixture.store.root + "/tmp/live-writer.tmp"
        try Data("half".utf8).write(to: URL(fileURLWithPath: stale))
        try Data("half".utf8).write(to: URL(fileURLWithPath: fresh))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: stale)

        try FileManager.default.removeItem(atPath: fixture.folder + "/work")   // sources linked to objects
        let before = try StoreFixture.diskUsage(fixture.folder)
        let report = try fixture.store.collectGarbage(keeping: [tree.digest, kept.digest])
        #expect(report.removed == 1)
        #expect(report.kept == 3)
        #expect(report.removedTemporaries == 1)
        #expect(report.freedBytes == before - (try StoreFixture.diskUsage(fixture.folder)))
        #expect(!fixture.store.contains(dropped.digest))
        #expect(fixture.store.contains(SHA256Hasher.digest(of: Array("inner".utf8))))
        #expect(try fixture.temporaryFiles() == ["live-writer.tmp"])
    }

    @Test("garbage collection refuses while a lease is held, and runs once it is released")
    func leaseBlocksCollection() throws {
        let fixture = try StoreFixture()
        let stored = try fixture.store.store(path: try fixture.write("a.txt", "a"))
        let lease = try fixture.store.lease()
        let error = #expect(throws: StoreError.self) { try fixture.store.collectGarbage(keeping: []) }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("lease") == true)
        #expect(fixture.store.contains(stored.digest))
        lease.release()
        lease.release()   // harmless
        #expect(try fixture.store.collectGarbage(keeping: []).removed == 1)
    }

    /// A process being started holds a copy of a lease's descriptor until it runs its
    /// program, so a lease can outlive its release by a moment.
    @Test("a lease released within a moment of garbage collection's start does not make it refuse")
    func leaseReleasedMeanwhile() throws {
        let fixture = try StoreFixture()
        _ = try fixture.store.store(path: try fixture.write("a.txt", "a"))
        let lease = try fixture.store.lease()
        let releaser = Thread {
            usleep(300_000)
            lease.release()
        }
        releaser.start()
        #expect(try fixture.store.collectGarbage(keeping: []).removed == 1)
    }

    @Test("a lease that goes out of scope is released")
    func leaseReleasedOnDeinit() throws {
        let fixture = try StoreFixture()
        do {
            let lease = try fixture.store.lease()
            #expect(!lease.isReleased)
        }
        #expect(try fixture.store.collectGarbage(keeping: []).removed == 0)
    }

    @Test("objects lists every object with its size, sorted by digest")
    func listing() throws {
        let fixture = try StoreFixture()
        let a = try fixture.store.store(path: try fixture.write("a", "aaaa"))
        let b = try fixture.store.store(path: try fixture.write("b", "bb"))
        let listed = try fixture.store.objects()
        #expect(listed.map(\.digest) == [a.digest, b.digest].sorted())
        #expect(listed.first { $0.digest == a.digest }?.size == 4)
        #expect(listed.allSatisfy { abs($0.modified.timeIntervalSinceNow) < 600 })
    }
}

/// Results gathered from concurrent workers.
final class Collected: @unchecked Sendable {
    // Safe: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [Result<StoredObject, StoreError>] = []

    func append(_ item: Result<StoredObject, StoreError>) {
        lock.lock(); defer { lock.unlock() }
        items.append(item)
    }

    var values: [Result<StoredObject, StoreError>] {
        lock.lock(); defer { lock.unlock() }
        return items
    }
}
