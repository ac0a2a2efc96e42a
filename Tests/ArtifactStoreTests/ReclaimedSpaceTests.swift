import Canonical
import Foundation
import Testing
@testable import ArtifactStore

/// `cache gc` and `runs prune` report what the disk really got back.
@Suite("Disk space given back by garbage collection and folder removal")
struct ReclaimedSpaceTests {
    @Test("garbage collection reports as freed exactly the drop in disk usage")
    func gcFreedMatchesDiskUsage() throws {
        let fixture = try StoreFixture()
        let large = try fixture.store.store(path: try fixture.write("large.bin", bytes: StoreFixture.bytes(3 << 20, seed: 7)))
        let linked = try fixture.store.store(path: try fixture.write("linked.bin", bytes: StoreFixture.bytes(2 << 20, seed: 8)))
        _ = try fixture.store.store(path: try fixture.write("small.txt", "small"))
        // Sources hard-linked into the store would hold the objects: drop them, and
        // keep one run folder's link to `linked`, as a run does.
        try FileManager.default.removeItem(atPath: fixture.folder + "/work")
        try fixture.store.materialize(linked, at: fixture.folder + "/runs/1/linked.bin")
        #expect(try fixture.store.objects().count == 3)
        let before = try StoreFixture.diskUsage(fixture.folder)

        let report = try fixture.store.collectGarbage(keeping: [])

        let after = try StoreFixture.diskUsage(fixture.folder)
        #expect(report.removed == 3)
        #expect(report.freedBytes == before - after)
        #expect(report.freedBytes >= 3 << 20)
        #expect(!fixture.store.contains(large.digest))
    }

    @Test("garbage collection counts an object a run folder still links as held, not freed")
    func gcCountsHeldObjects() throws {
        let fixture = try StoreFixture()
        let linked = try fixture.store.store(path: try fixture.write("linked.bin", bytes: StoreFixture.bytes(2 << 20, seed: 8)))
        try FileManager.default.removeItem(atPath: fixture.folder + "/work")
        try fixture.store.materialize(linked, at: fixture.folder + "/runs/1/linked.bin")
        let before = try StoreFixture.diskUsage(fixture.folder)

        let report = try fixture.store.collectGarbage(keeping: [])

        #expect(report.heldObjects == 1)
        #expect(report.heldBytes >= 2 << 20)
        #expect(report.freedBytes == before - (try StoreFixture.diskUsage(fixture.folder)))
        #expect(report.freedBytes < 2 << 20)

        // Removing the run folder then frees the object's bytes.
        let beforePrune = try StoreFixture.diskUsage(fixture.folder)
        let estimate = try SpaceReclaimer.estimate(removing: [fixture.folder + "/runs/1"])
        let space = try SpaceReclaimer.remove(fixture.folder + "/runs/1")
        #expect(space == estimate)
        #expect(space.heldBytes == 0)
        #expect(space.freedBytes == beforePrune - (try StoreFixture.diskUsage(fixture.folder)))
        #expect(space.freedBytes >= 2 << 20)
    }

    @Test("removing a folder whose large file is also an object frees only what the store does not hold")
    func folderRemovalCountsLinks() throws {
        let fixture = try StoreFixture()
        let stored = try fixture.store.store(path: try fixture.write("model.bin", bytes: StoreFixture.bytes(2 << 20)))
        try fixture.store.materialize(stored, at: fixture.folder + "/runs/1/train/model.bin")
        try fixture.write("../runs/1/train.log", "log line\n")
        // Two names of one inode inside the folder: it is freed only with the last.
        #expect(link(fixture.folder + "/runs/1/train.log", fixture.folder + "/runs/1/train.log.1") == 0)
        let before = try StoreFixture.diskUsage(fixture.folder)

        let estimate = try SpaceReclaimer.estimate(removing: [fixture.folder + "/runs/1"])
        let space = try SpaceReclaimer.remove(fixture.folder + "/runs/1")

        #expect(space == estimate)
        #expect(space.freedBytes == before - (try StoreFixture.diskUsage(fixture.folder)))
        let objectBytes = Int64(try FileManager.default.attributesOfItem(atPath: fixture.store.path(of: stored.digest))[.size] as? Int ?? 0)
        #expect(space.heldBytes >= objectBytes)
        #expect(!FileManager.default.fileExists(atPath: fixture.folder + "/runs/1"))
        #expect(try SpaceReclaimer.remove(fixture.folder + "/runs/1") == ReclaimedSpace())
    }

    @Test("garbage collection deletes nothing when a kept tree's manifest cannot be read")
    func gcRefusesOnUnreadableKeptTree() throws {
        let fixture = try StoreFixture()
        try fixture.write("tree/inner.txt", "inner")
        let tree = try fixture.store.store(path: fixture.folder + "/work/tree")
        let inner = SHA256Hasher.digest(of: Array("inner".utf8))
        // Something the store cannot read stands where the manifest was. (Permissions
        // would not do: the tests may run as root, who reads anything.)
        let manifestPath = fixture.store.path(of: tree.digest)
        try FileManager.default.removeItem(atPath: manifestPath)
        try FileManager.default.createDirectory(atPath: manifestPath, withIntermediateDirectories: false)

        let error = #expect(throws: StoreError.self) { try fixture.store.collectGarbage(keeping: [tree.digest]) }

        #expect(error?.message.contains("deleted nothing") == true)
        #expect(error?.message.contains(tree.digest.description) == true)
        #expect(fixture.store.contains(inner))
    }
}
