import Canonical
import Foundation
import Testing
@testable import ArtifactStore

/// A run's copy of an output must never change what the store hands out next.
@Suite("Materialised outputs and the store's integrity")
struct MaterializeIntegrityTests {
    /// Over the store's 1 MiB copy threshold.
    static let largeSize = 2 << 20

    @Test("appending to a materialised small file never changes the object")
    func smallAppendLeavesObject() throws {
        let fixture = try StoreFixture()
        let stored = try fixture.store.store(path: try fixture.write("metrics.json", "{\"accuracy\":0.97}\n"))
        let runCopy = fixture.folder + "/runs/1/evaluate/metrics.json"
        try fixture.store.materialize(stored, at: runCopy)

        try StoreFixture.append("tampered\n", to: runCopy)

        #expect(try FileDigest.sha256(path: fixture.store.path(of: stored.digest)).digest == stored.digest)
        let next = fixture.folder + "/runs/2/evaluate/metrics.json"
        try fixture.store.materialize(stored, at: next)
        #expect(try fixture.read(next) == "{\"accuracy\":0.97}\n")
    }

    @Test("appending to a stage's small output after it was stored never changes the object")
    func smallSourceAppendLeavesObject() throws {
        let fixture = try StoreFixture()
        let output = try fixture.write("runs/1/train/model.txt", "weights v1\n")
        let stored = try fixture.store.store(path: output)

        try StoreFixture.append("tampered\n", to: output)

        #expect(try FileDigest.sha256(path: fixture.store.path(of: stored.digest)).digest == stored.digest)
        #expect(try fixture.store.check(stored))
    }

    @Test("appending to a materialised large file is caught: the object is removed and never handed out")
    func largeAppendIsCaught() throws {
        let fixture = try StoreFixture()
        let content = StoreFixture.bytes(Self.largeSize)
        let stored = try fixture.store.store(path: try fixture.write("model.bin", bytes: content))
        let runCopy = fixture.folder + "/runs/1/train/model.bin"
        try fixture.store.materialize(stored, at: runCopy)
        #expect(try fixture.store.check(stored))

        try StoreFixture.append("tampered", to: runCopy)

        #expect(try fixture.store.check(stored) == false)
        #expect(!fixture.store.contains(stored.digest))
        let next = fixture.folder + "/runs/2/train/model.bin"
        let error = #expect(throws: StoreError.self) { try fixture.store.materialize(stored, at: next) }
        #expect(error?.code == .notFound)
        #expect(!FileManager.default.fileExists(atPath: next))
    }

    @Test("a hard-linked object overwritten in place with bytes of the same size is caught by the check and not handed out")
    func sameSizeOverwriteIsCaught() throws {
        let fixture = try StoreFixture()
        let stored = try fixture.store.store(path: try fixture.write("model.bin", bytes: StoreFixture.bytes(Self.largeSize)))
        let runCopy = fixture.folder + "/runs/1/train/model.bin"
        try fixture.store.materialize(stored, at: runCopy)
        let objectPath = fixture.store.path(of: stored.digest)
        let linked = try StoreFixture.inode(runCopy) == (try StoreFixture.inode(objectPath))

        // Same length, different bytes, written into the run's copy.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: runCopy)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: runCopy))
        try handle.write(contentsOf: Data(repeating: 0, count: 4096))
        try handle.close()

        let next = fixture.folder + "/runs/2/train/model.bin"
        if linked {
            let error = #expect(throws: StoreError.self) { try fixture.store.materialize(stored, at: next) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("was changed after it was stored") == true)
            #expect(!fixture.store.contains(stored.digest))
        } else {
            // A clone: the write never reached the object.
            try fixture.store.materialize(stored, at: next)
            #expect(try FileDigest.sha256(path: next).digest == stored.digest)
        }
    }

    @Test("touching a hard-linked object costs one re-hash and keeps it")
    func touchedObjectIsKept() throws {
        let fixture = try StoreFixture()
        let stored = try fixture.store.store(path: try fixture.write("model.bin", bytes: StoreFixture.bytes(Self.largeSize)))
        let objectPath = fixture.store.path(of: stored.digest)
        let stamp = { () throws -> Int in
            var info = stat()
            #expect(lstat(objectPath, &info) == 0)
            return ObjectStat.time(info).tv_nsec
        }
        #expect(try stamp() == ObjectStamp.nanoseconds(for: stored.digest))
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: objectPath)
        #expect(try stamp() != ObjectStamp.nanoseconds(for: stored.digest))

        #expect(try fixture.store.check(stored))
        #expect(try stamp() == ObjectStamp.nanoseconds(for: stored.digest))
        try fixture.store.materialize(stored, at: fixture.folder + "/runs/1/model.bin")
        #expect(try FileDigest.sha256(path: fixture.folder + "/runs/1/model.bin").digest == stored.digest)
    }

    @Test("small files are materialised as writable copies, large ones shared with the object")
    func sharingDependsOnSize() throws {
        let fixture = try StoreFixture()
        let small = try fixture.store.store(path: try fixture.write("small.txt", "small"))
        let large = try fixture.store.store(path: try fixture.write("large.bin", bytes: StoreFixture.bytes(Self.largeSize)))
        try fixture.store.materialize(small, at: fixture.folder + "/runs/1/small.txt")
        try fixture.store.materialize(large, at: fixture.folder + "/runs/1/large.bin")

        #expect(try StoreFixture.inode(fixture.folder + "/runs/1/small.txt") != (try StoreFixture.inode(fixture.store.path(of: small.digest))))
        #expect(try StoreFixture.permissions(fixture.folder + "/runs/1/small.txt") == 0o644)
        #expect(try StoreFixture.inode(fixture.folder + "/work/small.txt") != (try StoreFixture.inode(fixture.store.path(of: small.digest))))
        // ext4 (this machine) has no clones: the large file is the object itself, read-only.
        let linked = try StoreFixture.inode(fixture.folder + "/runs/1/large.bin") == (try StoreFixture.inode(fixture.store.path(of: large.digest)))
        if linked { #expect(try StoreFixture.permissions(fixture.folder + "/runs/1/large.bin") == 0o444) }
        #expect(try FileDigest.sha256(path: fixture.folder + "/runs/1/large.bin").digest == large.digest)
    }

    @Test("storing the same content again replaces an object that was written through a hard link")
    func storingAgainHeals() throws {
        let fixture = try StoreFixture()
        let content = StoreFixture.bytes(Self.largeSize)
        let stored = try fixture.store.store(path: try fixture.write("model.bin", bytes: content))
        try fixture.store.materialize(stored, at: fixture.folder + "/runs/1/model.bin")
        try StoreFixture.append("tampered", to: fixture.folder + "/runs/1/model.bin")

        let again = try fixture.store.store(path: try fixture.write("again/model.bin", bytes: content))

        #expect(again == stored)
        #expect(try FileDigest.sha256(path: fixture.store.path(of: stored.digest)).digest == stored.digest)
        #expect(try fixture.store.check(stored))
    }

    @Test("a tree whose large file was written through a run folder is reported by the check and not materialised")
    func tamperedTreeIsCaught() throws {
        let fixture = try StoreFixture()
        try fixture.write("out/weights.bin", bytes: StoreFixture.bytes(Self.largeSize))
        try fixture.write("out/config.json", "{}")
        let tree = try fixture.store.store(path: fixture.folder + "/work/out")
        try fixture.store.materialize(tree, at: fixture.folder + "/runs/1/out")
        try StoreFixture.append("tampered", to: fixture.folder + "/runs/1/out/weights.bin")

        #expect(try fixture.store.check(tree) == false)
        let next = fixture.folder + "/runs/2/out"
        let error = #expect(throws: StoreError.self) { try fixture.store.materialize(tree, at: next) }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("re-run the stage") == true)
        #expect(!FileManager.default.fileExists(atPath: next))
    }
}
