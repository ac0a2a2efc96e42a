@testable import ContainerImage
import Foundation
import Testing

@Suite("build cache sweeper")
struct BuildCacheSweeperTests {
    /// Two layers in a cache under `folder/cache/layers`; the first is made old.
    func twoLayers(_ folder: TempFolder) throws -> (old: CachedLayer, used: CachedLayer, cache: LayerCache) {
        try folder.write("a/weights.bin", String(repeating: "a", count: 10_000))
        try folder.write("b/weights.bin", String(repeating: "b", count: 10_000))
        let cache = LayerCache(folder: folder.path + "/cache/layers")
        let writer = LayerWriter(mtime: 1)
        func layer(_ name: String) throws -> CachedLayer {
            var contents = LayerContents()
            try contents.addTree(folder.path + "/" + name, at: "/model")
            return try cache.layer(for: contents, writer: writer)
        }
        return (try layer("a"), try layer("b"), cache)
    }

    func age(_ path: String) {
        setModificationTime(path, 1_000_000)
    }

    @Test("a layer not used within the window goes with its blob; a used one and its blob stay")
    func oldLayerGoes() throws {
        let folder = try TempFolder()
        let (old, used, cache) = try twoLayers(folder)
        age(cache.folder + "/keys/" + old.key.hex + ".json")
        age(old.layer.path)
        age(used.layer.path)  // a blob's own age does not matter while a kept record names it
        let report = try BuildCacheSweeper(folder: folder.path + "/cache")
            .sweep(unusedSince: Int64(Date().timeIntervalSince1970) - 3_600)
        #expect(report.layers == 1)
        #expect(report.bytesFreed >= old.layer.size)
        #expect(!FileManager.default.fileExists(atPath: old.layer.path))
        #expect(FileManager.default.fileExists(atPath: used.layer.path))
        #expect(cache.cached(used.key) != nil)
        #expect(cache.cached(old.key) == nil)
    }

    @Test("a hit marks the layer used, so that an old layer hit today is kept")
    func hitKeeps() throws {
        let folder = try TempFolder()
        let (old, _, cache) = try twoLayers(folder)
        age(cache.folder + "/keys/" + old.key.hex + ".json")
        age(old.layer.path)
        #expect(cache.cached(old.key) != nil)
        let report = try BuildCacheSweeper(folder: folder.path + "/cache")
            .sweep(unusedSince: Int64(Date().timeIntervalSince1970) - 3_600)
        #expect(report.layers == 0)
        #expect(FileManager.default.fileExists(atPath: old.layer.path))
    }

    @Test("a young blob no record names yet stays; an old one and old temporaries go")
    func orphans() throws {
        let folder = try TempFolder()
        let young = try folder.write("cache/layers/blobs/sha256/" + String(repeating: "1", count: 64), "x")
        let orphan = try folder.write("cache/layers/blobs/sha256/" + String(repeating: "2", count: 64), "yy")
        let temporary = try folder.write("cache/requirements/.abc.tmp-12-xyz/site-packages/p.py", "z")
        age(orphan)
        age(folder.path + "/cache/requirements/.abc.tmp-12-xyz")
        let report = try BuildCacheSweeper(folder: folder.path + "/cache")
            .sweep(unusedSince: Int64(Date().timeIntervalSince1970) - 3_600)
        #expect(FileManager.default.fileExists(atPath: young))
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(!FileManager.default.fileExists(atPath: temporary))
        #expect(report.requirementSets == 0, "a temporary folder is not counted as a requirements set")
        #expect(report.bytesFreed == 3)
    }

    @Test("an installed requirements set and a pulled base go when unused, and stay when used")
    func foldersByUse() throws {
        let folder = try TempFolder()
        try folder.write("cache/requirements/aaaa/site-packages/numpy/__init__.py", "n")
        try folder.write("cache/requirements/bbbb/site-packages/onnx/__init__.py", "o")
        try folder.write("cache/layers/bases/cccc/index.json", "{}")
        age(folder.path + "/cache/requirements/aaaa")
        age(folder.path + "/cache/requirements/bbbb")
        age(folder.path + "/cache/layers/bases/cccc")
        BuildCacheSweeper.touch(folder.path + "/cache/requirements/bbbb")
        let report = try BuildCacheSweeper(folder: folder.path + "/cache")
            .sweep(unusedSince: Int64(Date().timeIntervalSince1970) - 3_600)
        #expect(report.requirementSets == 1)
        #expect(report.bases == 1)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/cache/requirements/aaaa"))
        #expect(FileManager.default.fileExists(atPath: folder.path + "/cache/requirements/bbbb/site-packages/onnx/__init__.py"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/cache/layers/bases/cccc"))
    }

    @Test("a workspace without build caches sweeps nothing")
    func empty() throws {
        let folder = try TempFolder()
        let report = try BuildCacheSweeper(folder: folder.path + "/cache").sweep(unusedSince: Int64.max)
        #expect(report.isEmpty)
        #expect(report.bytesFreed == 0)
    }
}
