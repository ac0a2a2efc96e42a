import Foundation
import TestSupport
import Testing
@testable import RunStore

@Suite("Cache entries")
struct CacheEntryTests {
    func entry(_ key: String, digests: [String], createdAt: Date = moment(0)) throws -> CacheEntry {
        let outputs = digests.enumerated().map { sampleOutput(runID: 1, stage: "train", name: "out\($0.offset)", digest: $0.element) }
        return CacheEntry(key: key, pipeline: "iris", stage: "train", runID: 1,
                          outputsJSON: try CacheEntry.encodeOutputs(outputs),
                          metricsJSON: #"{"accuracy":0.9}"#, createdAt: createdAt)
    }

    @Test("an entry is saved, found by key, replaced, touched and deleted")
    func crud() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let first = try entry("sha256:k1", digests: ["sha256:a"])
        #expect(try store.cacheEntry(key: "sha256:k1") == nil)
        try store.saveCacheEntry(first)
        #expect(try store.cacheEntry(key: "sha256:k1") == first)
        #expect(first.lastUsedAt == first.createdAt)

        var replaced = try entry("sha256:k1", digests: ["sha256:b"])
        replaced.runID = 7
        try store.saveCacheEntry(replaced)
        #expect(try store.cacheEntry(key: "sha256:k1") == replaced)
        #expect(try store.cacheEntries().count == 1)

        try store.touchCacheEntry(key: "sha256:k1", at: moment(60))
        #expect(try store.cacheEntry(key: "sha256:k1")?.lastUsedAt == moment(60))
        try store.touchCacheEntry(key: "sha256:unknown", at: moment(60))

        try store.deleteCacheEntries(keys: ["sha256:k1", "sha256:unknown"])
        #expect(try store.cacheEntry(key: "sha256:k1") == nil)
        try store.deleteCacheEntries(keys: [])
    }

    @Test("entries are listed most recently used first")
    func listOrder() throws {
        let (folder, store) = try makeStore()
        _ = folder
        try store.saveCacheEntry(try entry("sha256:old", digests: [], createdAt: moment(0)))
        try store.saveCacheEntry(try entry("sha256:new", digests: [], createdAt: moment(10)))
        try store.saveCacheEntry(try entry("sha256:mid", digests: [], createdAt: moment(5)))
        #expect(try store.cacheEntries().map(\.key) == ["sha256:new", "sha256:mid", "sha256:old"])
        try store.touchCacheEntry(key: "sha256:old", at: moment(20))
        #expect(try store.cacheEntries().map(\.key) == ["sha256:old", "sha256:new", "sha256:mid"])
    }

    @Test("referenced digests are those of every entry's outputs")
    func referencedDigests() throws {
        let (folder, store) = try makeStore()
        _ = folder
        #expect(try store.referencedDigests().isEmpty)
        try store.saveCacheEntry(try entry("sha256:k1", digests: ["sha256:a", "sha256:b"]))
        try store.saveCacheEntry(try entry("sha256:k2", digests: ["sha256:b", "sha256:c"]))
        #expect(try store.referencedDigests() == ["sha256:a", "sha256:b", "sha256:c"])
        try store.deleteCacheEntries(keys: ["sha256:k1"])
        #expect(try store.referencedDigests() == ["sha256:b", "sha256:c"])
    }

    @Test("an entry whose outputs cannot be read stops gc from guessing")
    func unreadableOutputs() throws {
        let (folder, store) = try makeStore()
        _ = folder
        var broken = try entry("sha256:broken", digests: [])
        broken.outputsJSON = "not json"
        try store.saveCacheEntry(broken)
        let error = try #require(throws: RunStoreError.self) { try store.referencedDigests() }
        #expect(error.code == .invalidRecord)
        #expect(error.description.contains("cache entry sha256:broken"))
    }

    @Test("outputs encode to sorted JSON and decode back")
    func outputsJSON() throws {
        let outputs = [sampleOutput(runID: 3, stage: "train", name: "model", digest: "sha256:ff")]
        let json = try CacheEntry.encodeOutputs(outputs)
        #expect(json == #"[{"digest":"sha256:ff","kind":"file","name":"model","path":"runs/3/train/model","runID":3,"size":10,"stage":"train"}]"#)
        let entry = CacheEntry(key: "k", pipeline: "p", stage: "train", runID: 3, outputsJSON: json, createdAt: moment(0))
        #expect(try entry.outputs() == outputs)
    }
}
