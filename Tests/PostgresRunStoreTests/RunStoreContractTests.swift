import Foundation
import TestSupport
import Testing
import RunStore

/// The assertions of Tests/RunStoreTests, written once and made of both stores that keep
/// the ``RunStore`` and ``CacheIndex`` contracts on disk: what a user reads back from a
/// PostgreSQL history is what they would read from the workspace's SQLite file.
@Suite("The run store contract, on SQLite and PostgreSQL")
struct RunStoreContractTests {
    @Test("a run, its stages and outputs read back as they were written", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        var run = sampleRun()
        run.branch = nil
        run.dirty = true
        let id = try await store.createRun(run, stages: plannedStages())

        var created = run
        created.id = id
        #expect(try await store.run(id: id) == created)
        #expect(try await store.stages(runID: id).map(\.name) == ["train", "validate", "serialize"])
        #expect(try await store.stages(runID: id).allSatisfy { $0.runID == id && $0.status == .pending })

        var train = try #require(try await store.stages(runID: id).first)
        train.status = .running
        train.attempts = 1
        train.startedAt = moment(1)
        try await store.updateStage(train, outputs: nil)
        train.status = .succeeded
        train.exitCode = 0
        train.finishedAt = moment(5.5)
        train.cacheKey = "sha256:key-train"
        train.cachedFrom = 3
        train.reason = "input examples/iris/data.csv changed"
        train.keyComponentsJSON = #"{"inputs":{"data.csv":"abc"}}"#
        train.metricsJSON = #"{"accuracy":0.97}"#
        train.resultsJSON = #"{"sha256":"sha256:ff"}"#
        train.warningsJSON = #"["cache entry not saved"]"#
        train.logPath = "runs/\(id)/train.log"
        let model = sampleOutput(runID: id, stage: "train", name: "model", digest: "sha256:aaaa", size: 1234)
        try await store.updateStage(train, outputs: [model])
        try await store.finishRun(id: id, status: .succeeded, finishedAt: moment(9))

        created.status = .succeeded
        created.finishedAt = moment(9)
        #expect(try await store.run(id: id) == created)
        #expect(try await store.stages(runID: id).first == train)
        #expect(try await store.outputs(runID: id) == [model])
    }

    @Test("run ids increase from 1, stages take the new run's id, and the count follows", arguments: StoreKind.allCases)
    func idsIncrease(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        let first = try await store.createRun(sampleRun(), stages: [StageRecord(runID: 99, name: "a", kind: "command", position: 0)])
        let second = try await store.createRun(sampleRun(pipeline: "wine"), stages: [])
        #expect(first == 1)
        #expect(second == 2)
        #expect(try await store.stages(runID: first).map(\.runID) == [first])
        #expect(try await store.runCount() == 2)
        #expect(try await store.pipelineNames() == ["iris", "wine"])
    }

    @Test("a run of 3,500 stages (more values than one statement takes) is recorded whole and in order, and a stage's outputs replace at once", arguments: StoreKind.allCases)
    func manyStages(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        let names = (0..<3500).map { "s\($0)" }
        let id = try await store.createRun(sampleRun(), stages: names.enumerated().map { index, name in
            StageRecord(runID: 0, name: name, kind: "command", position: index)
        })
        #expect(try await store.stages(runID: id).map(\.name) == names)
        let outputs = (0..<300).map { sampleOutput(runID: id, stage: "s7", name: "o\($0)") }
        try await store.updateStage(StageRecord(runID: id, name: "s7", kind: "command", position: 7, status: .succeeded),
                                    outputs: outputs)
        #expect(try await store.outputs(runID: id).map(\.name).sorted() == outputs.map(\.name).sorted())
    }

    @Test("outputs are replaced when given, kept when nil, cleared by an empty list, and stages are upserted in pipeline order",
          arguments: StoreKind.allCases)
    func outputsAndStages(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        let id = try await store.createRun(sampleRun(), stages: plannedStages(["zeta", "alpha"]))
        var alpha = StageRecord(runID: id, name: "alpha", kind: "command", position: 1, status: .running)
        try await store.updateStage(alpha, outputs: [
            sampleOutput(runID: id, stage: "alpha", name: "model"), sampleOutput(runID: id, stage: "alpha", name: "metrics"),
        ])
        alpha.status = .succeeded
        try await store.updateStage(alpha, outputs: nil)
        #expect(try await store.outputs(runID: id).map(\.name) == ["metrics", "model"])
        try await store.updateStage(StageRecord(runID: id, name: "zeta", kind: "command", position: 0, status: .succeeded),
                                    outputs: [sampleOutput(runID: id, stage: "zeta", name: "z")])
        #expect(try await store.outputs(runID: id).map(\.stage) == ["zeta", "alpha", "alpha"])

        try await store.updateStage(alpha, outputs: [sampleOutput(runID: id, stage: "alpha", name: "model", digest: "sha256:2222")])
        #expect(try await store.outputs(runID: id).filter { $0.stage == "alpha" }.map(\.digest) == ["sha256:2222"])
        try await store.updateStage(alpha, outputs: [])
        #expect(try await store.outputs(runID: id).map(\.stage) == ["zeta"])

        try await store.updateStage(StageRecord(runID: id, name: "extra", kind: "command", position: 5, status: .skipped), outputs: nil)
        #expect(try await store.stages(runID: id).map(\.name) == ["zeta", "alpha", "extra"])
        #expect(try await store.stages(runID: id).map(\.status) == [.succeeded, .succeeded, .skipped])
    }

    @Test("records that name what does not exist, or give a thing twice, are refused with the right code",
          arguments: StoreKind.allCases)
    func refusals(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        let id = try await store.createRun(sampleRun(), stages: plannedStages(["train"]))

        let twice = await #expect(throws: RunStoreError.self) {
            _ = try await store.createRun(sampleRun(), stages: plannedStages(["a", "a"]))
        }
        #expect(twice?.code == .invalidRecord)
        let orphan = await #expect(throws: RunStoreError.self) {
            _ = try await store.createRun(sampleRun(parentRun: 99), stages: [])
        }
        #expect(orphan?.code == .notFound)
        #expect(orphan?.description.contains("parent run #99 does not exist") == true)
        let unknownRun = await #expect(throws: RunStoreError.self) {
            try await store.updateStage(StageRecord(runID: 99, name: "x", kind: "command", position: 0), outputs: nil)
        }
        #expect(unknownRun?.code == .notFound)
        let unfinished = await #expect(throws: RunStoreError.self) {
            try await store.finishRun(id: 99, status: .failed, finishedAt: moment(1))
        }
        #expect(unfinished?.code == .notFound)
        let sameName = await #expect(throws: RunStoreError.self) {
            try await store.updateStage(StageRecord(runID: id, name: "train", kind: "command", position: 0),
                                        outputs: [sampleOutput(runID: id, stage: "train", name: "m"),
                                                  sampleOutput(runID: id, stage: "train", name: "m")])
        }
        #expect(sameName?.code == .invalidRecord)
        let foreign = await #expect(throws: RunStoreError.self) {
            try await store.updateStage(StageRecord(runID: id, name: "train", kind: "command", position: 0),
                                        outputs: [sampleOutput(runID: id, stage: "other", name: "m")])
        }
        #expect(foreign?.code == .invalidRecord)
        // Nothing half-written: the refused run left no row, the refused outputs none.
        #expect(try await store.runCount() == 1)
        #expect(try await store.outputs(runID: id).isEmpty)
    }

    @Test("lists are newest first, filtered by pipeline, status and name, limited, and leave out the pipeline source",
          arguments: StoreKind.allCases)
    func filtersAndOrder(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        for (index, (pipeline, status)) in [
            ("iris", RunStatus.succeeded), ("iris", .failed), ("wine", .succeeded),
            ("iris", .succeeded), ("wine", .failed), ("iris", .running),
        ].enumerated() {
            var run = sampleRun(pipeline: pipeline, startedAt: moment(Double(index)))
            if index == 1 { run.name = "Baseline 50%" }
            let id = try await store.createRun(run, stages: [])
            if status != .running {
                try await store.finishRun(id: id, status: status, finishedAt: moment(Double(index) + 0.5))
            }
        }
        #expect(try await store.runs(RunFilter()).map(\.id) == [6, 5, 4, 3, 2, 1])
        #expect(try await store.runs(RunFilter(limit: 2)).map(\.id) == [6, 5])
        #expect(try await store.runs(RunFilter(limit: 0)).count == 6)
        #expect(try await store.runs(RunFilter(pipeline: "iris")).map(\.id) == [6, 4, 2, 1])
        #expect(try await store.runs(RunFilter(status: .failed)).map(\.id) == [5, 2])
        #expect(try await store.runs(RunFilter(pipeline: "iris", status: .succeeded)).map(\.id) == [4, 1])
        #expect(try await store.runs(RunFilter(pipeline: "iris", status: .succeeded, limit: 1)).map(\.id) == [4])
        #expect(try await store.runs(RunFilter(pipeline: "nope")).isEmpty)
        #expect(try await store.runs(RunFilter(name: "baseline")).map(\.id) == [2])
        #expect(try await store.runs(RunFilter(name: "50%")).map(\.id) == [2])
        #expect(try await store.runs(RunFilter(name: "e_5")).isEmpty, "`_` is no wildcard")
        let listed = try #require(try await store.runs(RunFilter()).last)
        #expect(listed.pipelineSource == "")
        #expect(listed.paramsJSON == sampleRun().paramsJSON)
        #expect(try await store.run(id: 1)?.pipelineSource == sampleRun().pipelineSource)
    }

    @Test("latest is the newest run of the pipeline, or of any; a re-run keeps its parent", arguments: StoreKind.allCases)
    func latestAndParent(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        #expect(try await store.latestRunID(pipeline: nil) == nil)
        let iris = try await store.createRun(sampleRun(pipeline: "iris"), stages: [])
        var rerun = sampleRun(pipeline: "wine", parentRun: iris)
        rerun.trigger = .rerun
        let wine = try await store.createRun(rerun, stages: [])
        #expect(try await store.latestRunID(pipeline: nil) == wine)
        #expect(try await store.latestRunID(pipeline: "iris") == iris)
        #expect(try await store.latestRunID(pipeline: "mnist") == nil)
        #expect(try await store.run(id: wine)?.parentRun == iris)
        #expect(try await store.run(id: wine)?.trigger == .rerun)
        #expect(try await store.run(id: 99) == nil)
        #expect(try await store.stages(runID: 99).isEmpty)
    }

    @Test("the last result and the last attempt of a stage are the newest matching records of that pipeline",
          arguments: StoreKind.allCases)
    func lastResultAndAttempt(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        func record(_ pipeline: String, _ status: StageStatus, components: String?) async throws -> Int64 {
            let id = try await store.createRun(sampleRun(pipeline: pipeline), stages: plannedStages(["train"]))
            try await store.updateStage(StageRecord(runID: id, name: "train", kind: "command", position: 0, status: status,
                                                    keyComponentsJSON: components), outputs: nil)
            return id
        }
        #expect(try await store.lastResult(pipeline: "iris", stage: "train", excludingRun: nil) == nil)
        let succeeded = try await record("iris", .succeeded, components: #"{"v":1}"#)
        let cached = try await record("iris", .cached, components: #"{"v":2}"#)
        let failed = try await record("iris", .failed, components: #"{"v":3}"#)
        _ = try await record("iris", .succeeded, components: nil)
        _ = try await record("wine", .succeeded, components: #"{"v":4}"#)
        let current = try await store.createRun(sampleRun(pipeline: "iris"), stages: plannedStages(["train"]))

        let last = try #require(try await store.lastResult(pipeline: "iris", stage: "train", excludingRun: current))
        #expect(last.runID == cached)
        #expect(last.keyComponentsJSON == #"{"v":2}"#)
        #expect(try await store.lastResult(pipeline: "iris", stage: "train", excludingRun: cached)?.runID == succeeded)
        #expect(try await store.lastResult(pipeline: "iris", stage: "evaluate", excludingRun: nil) == nil)
        #expect(try await store.lastAttempt(pipeline: "iris", stage: "train", excludingRun: current)?.runID == failed + 1)
        #expect(try await store.lastAttempt(pipeline: "wine", stage: "train", excludingRun: nil)?.status == .succeeded)
    }

    @Test("a cache entry is saved, found, replaced, touched, listed most recently used first, and deleted",
          arguments: StoreKind.allCases)
    func cacheEntries(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        func entry(_ key: String, createdAt: Date = moment(0)) throws -> CacheEntry {
            CacheEntry(key: key, pipeline: "iris", stage: "train", runID: 1,
                       outputsJSON: try CacheEntry.encodeOutputs([sampleOutput(runID: 1, stage: "train", name: "m")]),
                       metricsJSON: #"{"accuracy":0.9}"#, resultsJSON: #"{"version":3}"#, createdAt: createdAt)
        }
        #expect(try await store.cacheEntry(key: "sha256:k1") == nil)
        let first = try entry("sha256:k1")
        try await store.saveCacheEntry(first)
        #expect(try await store.cacheEntry(key: "sha256:k1") == first)
        var replaced = try entry("sha256:k1")
        replaced.runID = 7
        replaced.metricsJSON = nil
        try await store.saveCacheEntry(replaced)
        #expect(try await store.cacheEntry(key: "sha256:k1") == replaced)
        #expect(try await store.cacheEntries().count == 1)

        try await store.saveCacheEntry(try entry("sha256:new", createdAt: moment(10)))
        try await store.saveCacheEntry(try entry("sha256:mid", createdAt: moment(5)))
        #expect(try await store.cacheEntries().map(\.key) == ["sha256:new", "sha256:mid", "sha256:k1"])
        try await store.touchCacheEntry(key: "sha256:k1", at: moment(60))
        try await store.touchCacheEntry(key: "sha256:unknown", at: moment(60))
        #expect(try await store.cacheEntry(key: "sha256:k1")?.lastUsedAt == moment(60))
        #expect(try await store.cacheEntries().map(\.key) == ["sha256:k1", "sha256:new", "sha256:mid"])

        try await store.deleteCacheEntries(keys: ["sha256:k1", "sha256:mid", "sha256:unknown"])
        try await store.deleteCacheEntries(keys: [])
        #expect(try await store.cacheEntries().map(\.key) == ["sha256:new"])
    }

    @Test("runs to prune are the finished ones the selection picks, and marking them records when, once",
          arguments: StoreKind.allCases)
    func prune(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        // #1 succeeded (ended at 10), #2 failed (20), #3 succeeded (30), #4 interrupted (35), #5 failed (50), #6 running.
        let ends: [(RunStatus, Double?)] = [(.succeeded, 10), (.failed, 20), (.succeeded, 30), (.interrupted, nil),
                                            (.failed, 50), (.running, nil)]
        for (offset, (status, end)) in ends.enumerated() {
            let id = try await store.createRun(sampleRun(startedAt: moment(Double(offset * 10 + 5))), stages: [])
            if status != .running {
                try await store.finishRun(id: id, status: status, finishedAt: moment(end ?? Double(offset * 10 + 5)))
            }
        }
        func picked(_ selection: PruneSelection) async throws -> [Int64] {
            try await store.runsToPrune(selection).compactMap(\.id)
        }
        #expect(try await picked(PruneSelection()) == [1, 2, 3, 4, 5])
        #expect(try await picked(PruneSelection(status: .running)) == [])
        #expect(try await picked(PruneSelection(keep: 2)) == [1, 2, 3])
        #expect(try await picked(PruneSelection(keep: 1, status: .failed)) == [2])
        #expect(try await picked(PruneSelection(endedBefore: moment(36))) == [1, 2, 3, 4])
        #expect(try await picked(PruneSelection(keep: 3, endedBefore: moment(36))) == [1, 2])

        #expect(try await store.markPruned(runIDs: [3, 1, 6, 99], at: moment(100)) == [3, 1])
        #expect(try await store.markPruned(runIDs: [1, 2], at: moment(200)) == [2])
        #expect(try await store.run(id: 1)?.prunedAt == moment(100))
        #expect(try await store.run(id: 6)?.prunedAt == nil)
        #expect(try await store.runs(RunFilter(limit: 0)).map { $0.prunedAt != nil } == [false, false, false, true, true, true])
        #expect(try await picked(PruneSelection()) == [4, 5])
    }

    @Test("a note is set, appended to as a new line, removed by an empty text, and refused for an unknown run",
          arguments: StoreKind.allCases)
    func notes(kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        let store = fixture.store
        let id = try await store.createRun(sampleRun(status: .succeeded), stages: plannedStages())
        #expect(try await store.setNote(runID: id, "first", append: false).note == "first")
        #expect(try await store.setNote(runID: id, "second", append: false).note == "second")
        #expect(try await store.setNote(runID: id, "third", append: true).note == "second\nthird")
        #expect(try await store.runs(RunFilter()).first?.note == "second\nthird")
        #expect(try await store.setNote(runID: id, "", append: false).note == nil)
        #expect(try await store.setNote(runID: id, "only", append: true).note == "only")
        let unknown = await #expect(throws: RunStoreError.self) { _ = try await store.setNote(runID: 99, "x", append: false) }
        #expect(unknown?.code == .notFound)
    }
}
