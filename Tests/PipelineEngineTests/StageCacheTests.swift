import ArtifactStore
import Canonical
import Foundation
@testable import PipelineEngine
import PipelineSpec
import RunStore
import Synchronization
import Testing

@Suite("stage execution and the stage cache, on in-memory stores")
struct StageCacheTests {
    static let twoStages = """
        version: 1
        name: p
        params: { c: 1 }
        stages:
          train: { kind: probe, run: "train ${{ params.c }}", outputs: { model: model.bin } }
          report: { kind: probe, run: report, needs: [train], outputs: { text: report.txt } }

        """

    @Test("a second run takes every stage from the cache, with the first run as origin")
    func secondRunIsCached() async throws {
        let fixture = try EngineFixture()
        let pipeline = try fixture.pipeline(Self.twoStages)
        let first = try await fixture.run(pipeline)
        let second = try await fixture.run(pipeline)
        #expect(fixture.probe.runs == ["train", "report"])
        #expect(second.summaries.statuses == ["train": .cached, "report": .cached])
        #expect(second.summaries.named("train")?.cachedFrom == first.id)
        let output = try #require(try await fixture.store.outputs(runID: second.id).first { $0.name == "model" })
        #expect(try String(contentsOfFile: output.path, encoding: .utf8) == "train train 1\n")
    }

    @Test("a stage that computes holds its key's lock; a run taken wholly from the local cache takes no lock")
    func hitsTakeNoLock() async throws {
        let fixture = try EngineFixture()
        let pipeline = try fixture.pipeline(Self.twoStages)
        let first = try await fixture.run(pipeline)
        let keys = fixture.store.stages(runID: first.id).compactMap(\.cacheKey)
        #expect(fixture.locks.acquired.sorted() == keys.sorted() && keys.count == 2)
        let second = try await fixture.run(pipeline)
        #expect(second.summaries.statuses == ["train": .cached, "report": .cached])
        #expect(fixture.locks.acquired.count == 2, "no lock for the hits: \(fixture.locks.acquired)")
    }

    @Test("a hit records the entry's use when the last recorded use is older than the touch interval, not at every run")
    func hitsTouchSparingly() async throws {
        let fixture = try EngineFixture()
        let pipeline = try fixture.pipeline(Self.twoStages)
        _ = try await fixture.run(pipeline)
        let key = try #require(fixture.store.cacheEntries().first { $0.stage == "train" }?.key)
        let longAgo = Date().addingTimeInterval(-StageCache.touchInterval - 60)
        try fixture.store.touchCacheEntry(key: key, at: longAgo)
        let before = Date()
        _ = try await fixture.run(pipeline)
        let touched = try #require(try fixture.store.cacheEntry(key: key)?.lastUsedAt)
        #expect(touched >= before, "an old use is brought up to date")
        let recently = Date().addingTimeInterval(-5)
        try fixture.store.touchCacheEntry(key: key, at: recently)
        _ = try await fixture.run(pipeline)
        #expect(try fixture.store.cacheEntry(key: key)?.lastUsedAt == recently, "a recent use is not written again")
    }

    @Test("a kind's results are recorded with the stage and restored on a cache hit")
    func resultsSurviveAHit() async throws {
        let fixture = try EngineFixture()
        fixture.probe.state.withLock { $0.results["train"] = ["sha256": .string("sha256:ab"), "size": .int(3)] }
        let pipeline = try fixture.pipeline(Self.twoStages)
        let first = try await fixture.run(pipeline)
        #expect(first.summaries.named("train")?.results == ["sha256": .string("sha256:ab"), "size": .int(3)])
        fixture.probe.state.withLock { $0.results["train"] = [:] }
        let second = try await fixture.run(pipeline)
        #expect(second.summaries.named("train")?.status == .cached)
        #expect(second.summaries.named("train")?.results == ["sha256": .string("sha256:ab"), "size": .int(3)])
        let record = try #require(try await fixture.store.stages(runID: second.id).first { $0.name == "train" })
        #expect(record.resultsJSON == #"{"sha256":"sha256:ab","size":3}"#)
    }

    @Test("a result is usable downstream as stages.NAME.results.KEY, and a new value re-keys the stage that uses it")
    func resultsFlowDownstream() async throws {
        let fixture = try EngineFixture()
        let yaml = """
            version: 1
            name: r
            stages:
              a: { kind: probe, run: a, outputs: { o: o.txt } }
              b: { kind: probe, run: "use ${{ stages.a.results.sha256 }}", outputs: { o: o.txt } }

            """
        let pipeline = try fixture.pipeline(yaml)
        #expect(pipeline.stage(named: "b")?.dependencies == ["a"], "the reference adds the edge")
        fixture.probe.state.withLock { $0.results["a"] = ["sha256": .string("sha256:01")] }
        let first = try await fixture.run(pipeline)
        let output = try #require(try await fixture.store.outputs(runID: first.id).first { $0.stage == "b" })
        #expect(try String(contentsOfFile: output.path, encoding: .utf8) == "b use sha256:01\n")
        fixture.probe.state.withLock { $0.results["a"] = ["sha256": .string("sha256:02")] }
        let second = try await fixture.run(pipeline, force: ["a"])
        #expect(second.summaries.named("b")?.status == .succeeded)
        #expect(second.summaries.named("b")?.reason == "run line changed (since run #\(first.id))")
    }

    @Test("a hit whose results live outside the workspace is checked first, and re-run when they are gone")
    func verifyCachedBeforeTrustingAHit() async throws {
        let fixture = try EngineFixture()
        fixture.probe.state.withLock { $0.results["push"] = ["sha256": .string("sha256:aa")] }
        let pipeline = try fixture.pipeline("version: 1\nname: x\nstages:\n  push: { kind: external, run: p, outputs: { o: o.txt } }\n")
        let first = try await fixture.run(pipeline)
        let second = try await fixture.run(pipeline)
        #expect(second.summaries.named("push")?.status == .cached)
        #expect(fixture.probe.state.withLock { $0.checked } == [["sha256": .string("sha256:aa")]])
        fixture.probe.state.withLock { $0.outsideStillExists = false }
        let third = try await fixture.run(pipeline)
        #expect(third.summaries.named("push")?.status == .succeeded)
        #expect(third.summaries.named("push")?.reason
                == "the cached result of run #\(first.id) no longer exists outside the workspace (the external kind's check); computing it again")
        let cachedKinds = try fixture.pipeline(Self.twoStages)
        _ = try await fixture.run(cachedKinds)
        _ = try await fixture.run(cachedKinds)
        #expect(fixture.probe.state.withLock { $0.checked.count } == 2, "kinds whose results live in the workspace are not checked")
    }

    @Test("a changed param re-runs the stage and says which param changed, and since which run")
    func explanation() async throws {
        let fixture = try EngineFixture()
        let first = try await fixture.run(try fixture.pipeline(Self.twoStages))
        let changed = try fixture.pipeline(Self.twoStages.replacingOccurrences(of: "c: 1", with: "c: 2"))
        let second = try await fixture.run(changed)
        #expect(second.summaries.named("train")?.status == .succeeded)
        #expect(second.summaries.named("train")?.reason == "param c changed (1 -> 2); run line changed (since run #\(first.id))")
        #expect(second.summaries.named("report")?.reason == "upstream output train.model changed (since run #\(first.id))")
    }

    @Test("an entry whose object is gone is not a hit: the stage runs again and says why")
    func missingObjectReruns() async throws {
        let fixture = try EngineFixture()
        let pipeline = try fixture.pipeline(Self.twoStages)
        let first = try await fixture.run(pipeline)
        let output = try #require(try await fixture.store.outputs(runID: first.id).first { $0.name == "model" })
        fixture.objects.remove(try #require(Digest(parsing: output.digest)))
        let second = try await fixture.run(pipeline)
        #expect(second.summaries.named("train")?.status == .succeeded)
        #expect(second.summaries.named("train")?.reason == "the cached result of run #\(first.id) is missing objects from the store")
    }

    @Test("a cache index that cannot be read fails the stage as an environment error instead of recomputing")
    func unreadableIndexIsNotAMiss() async throws {
        let fixture = try EngineFixture()
        let pipeline = try fixture.pipeline(Self.twoStages)
        fixture.store.fail(operationsContaining: ["read cache entry"])
        let (_, summaries, journal) = try await fixture.run(pipeline)
        #expect(summaries.named("train")?.status == .failed)
        #expect(summaries.named("train")?.error?.contains("cannot read the cache index") == true)
        #expect(fixture.probe.runs.isEmpty)
        #expect(!journal.environmentFailures.isEmpty)
    }

    @Test("a result that cannot be cached still succeeds, with a warning recorded and announced")
    func unsavedEntryIsAWarning() async throws {
        let fixture = try EngineFixture()
        let pipeline = try fixture.pipeline(Self.twoStages)
        fixture.store.fail(operationsContaining: ["save cache entry"])
        let (id, summaries, _) = try await fixture.run(pipeline)
        #expect(summaries.named("train")?.status == .succeeded)
        #expect(summaries.named("train")?.warnings.first?.contains("the result was not cached") == true)
        let record = try #require(try await fixture.store.stages(runID: id).first { $0.name == "train" })
        #expect(record.warningsJSON?.contains("the result was not cached") == true)
        let warned = fixture.events.withLock { events in
            events.contains { if case .stageWarning(let stage, _, _) = $0 { stage == "train" } else { false } }
        }
        #expect(warned)
    }

    @Test("two runs that need the same key at once compute it once; the other takes the result")
    func lockedKeyComputedOnce() async throws {
        let fixture = try EngineFixture()
        fixture.probe.state.withLock { $0.delays["train"] = 50_000_000 }
        let pipeline = try fixture.pipeline("version: 1\nname: p\nstages:\n  train: { kind: probe, run: t, outputs: { m: m.bin } }\n")
        async let one = fixture.run(pipeline)
        async let two = fixture.run(pipeline)
        let statuses = try await [one.summaries.named("train")?.status, two.summaries.named("train")?.status]
        #expect(fixture.probe.runs == ["train"])
        #expect(Set(statuses.compactMap { $0 }) == [.succeeded, .cached])
    }

    @Test("gc reads the cache entries only while it holds the store, and refuses while a run holds a lease")
    func gcTakesTheStoreFirst() async throws {
        let fixture = try EngineFixture()
        _ = try await fixture.run(try fixture.pipeline(Self.twoStages))
        let watched = WatchingIndex(inner: fixture.store, objects: fixture.objects)
        let cache = StageCache(index: watched, objects: fixture.objects, locks: fixture.locks)
        let report = try await cache.collectGarbage(keepDays: 7)
        #expect(report.entriesKept == 2 && report.objectsRemoved == 0)
        #expect(watched.readsOutsideCollection == 0, "entries were read before the store was taken")
        #expect(watched.reads > 0)

        let lease = try await fixture.objects.lease()
        await #expect(throws: EngineError.self) { _ = try await cache.collectGarbage(keepDays: 0) }
        lease.release()
        #expect(try await fixture.store.cacheEntries().count == 2, "a refused gc deleted no entry")
    }
}

/// A cache index that notes whether the object store was held by gc when it was read.
final class WatchingIndex: CacheIndex {
    let inner: InMemoryRunStore
    let objects: InMemoryArtifactStore
    private let counts = Mutex((reads: 0, outside: 0))

    init(inner: InMemoryRunStore, objects: InMemoryArtifactStore) {
        self.inner = inner
        self.objects = objects
    }

    var reads: Int { counts.withLock { $0.reads } }
    var readsOutsideCollection: Int { counts.withLock { $0.outside } }

    func cacheEntries() throws(RunStoreError) -> [CacheEntry] {
        let collecting = objects.isCollecting
        counts.withLock { $0.reads += 1; if !collecting { $0.outside += 1 } }
        return inner.cacheEntries()
    }
    func cacheEntry(key: String) throws(RunStoreError) -> CacheEntry? { try inner.cacheEntry(key: key) }
    func saveCacheEntry(_ entry: CacheEntry) throws(RunStoreError) { try inner.saveCacheEntry(entry) }
    func touchCacheEntry(key: String, at: Date) throws(RunStoreError) { try inner.touchCacheEntry(key: key, at: at) }
    func deleteCacheEntries(keys: [String]) throws(RunStoreError) { try inner.deleteCacheEntries(keys: keys) }
}
