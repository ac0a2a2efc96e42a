import Foundation
import TestSupport
import Testing
@testable import RunStore

@Suite("Recording and reading runs")
struct RunHistoryTests {
    @Test("a run, its stages and outputs read back as they were written")
    func roundTrip() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let run = sampleRun()
        let id = try store.createRun(run, stages: plannedStages())

        var created = run
        created.id = id
        #expect(try store.run(id: id) == created)
        #expect(try store.stages(runID: id).map(\.name) == ["train", "validate", "serialize"])
        #expect(try store.stages(runID: id).allSatisfy { $0.runID == id && $0.status == .pending })

        var train = try #require(try store.stages(runID: id).first)
        train.status = .running
        train.attempts = 1
        train.startedAt = moment(1)
        try store.updateStage(train, outputs: nil)
        train.status = .succeeded
        train.exitCode = 0
        train.finishedAt = moment(5.5)
        train.cacheKey = "sha256:key-train"
        train.reason = "input examples/iris/data.csv changed"
        train.keyComponentsJSON = #"{"inputs":{"data.csv":"abc"}}"#
        train.metricsJSON = #"{"accuracy":0.97}"#
        train.logPath = "runs/\(id)/train.log"
        let model = sampleOutput(runID: id, stage: "train", name: "model", digest: "sha256:aaaa", size: 1234)
        try store.updateStage(train, outputs: [model])
        try store.finishRun(id: id, status: .succeeded, finishedAt: moment(9))

        created.status = .succeeded
        created.finishedAt = moment(9)
        #expect(try store.run(id: id) == created)
        #expect(try store.stages(runID: id).first == train)
        #expect(try store.outputs(runID: id) == [model])
    }

    @Test("run ids increase from 1, and stages take the new run's id")
    func idsIncrease() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let first = try store.createRun(sampleRun(), stages: [StageRecord(runID: 99, name: "a", kind: "command", position: 0)])
        let second = try store.createRun(sampleRun(), stages: [])
        #expect(first == 1)
        #expect(second == 2)
        #expect(try store.stages(runID: first).map(\.runID) == [first])
        #expect(try store.runCount() == 2)
    }

    @Test("outputs are replaced when given, kept when nil, and cleared by an empty list")
    func outputsReplacement() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let id = try store.createRun(sampleRun(), stages: plannedStages(["train"]))
        var train = StageRecord(runID: id, name: "train", kind: "command", position: 0, status: .running)
        try store.updateStage(train, outputs: [
            sampleOutput(runID: id, stage: "train", name: "model"),
            sampleOutput(runID: id, stage: "train", name: "metrics"),
        ])
        train.status = .succeeded
        try store.updateStage(train, outputs: nil)
        #expect(try store.outputs(runID: id).map(\.name) == ["metrics", "model"])

        try store.updateStage(train, outputs: [sampleOutput(runID: id, stage: "train", name: "model", digest: "sha256:2222")])
        #expect(try store.outputs(runID: id).map(\.digest) == ["sha256:2222"])

        try store.updateStage(train, outputs: [])
        #expect(try store.outputs(runID: id).isEmpty)
        #expect(try store.stages(runID: id).map(\.status) == [.succeeded])
    }

    @Test("a stage that was not planned with its run is added by updateStage")
    func upsertAddsStage() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let id = try store.createRun(sampleRun(), stages: plannedStages(["train"]))
        try store.updateStage(StageRecord(runID: id, name: "extra", kind: "command", position: 5, status: .skipped), outputs: nil)
        #expect(try store.stages(runID: id).map(\.name) == ["train", "extra"])
    }

    @Test("stages and outputs are listed in pipeline order, not name order")
    func pipelineOrder() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let id = try store.createRun(sampleRun(), stages: plannedStages(["zeta", "alpha"]))
        try store.updateStage(StageRecord(runID: id, name: "alpha", kind: "command", position: 1, status: .succeeded),
                              outputs: [sampleOutput(runID: id, stage: "alpha", name: "a")])
        try store.updateStage(StageRecord(runID: id, name: "zeta", kind: "command", position: 0, status: .succeeded),
                              outputs: [sampleOutput(runID: id, stage: "zeta", name: "z")])
        #expect(try store.stages(runID: id).map(\.name) == ["zeta", "alpha"])
        #expect(try store.outputs(runID: id).map(\.stage) == ["zeta", "alpha"])
    }

    @Test("lists are newest first, filtered by pipeline and status, and limited")
    func filtersAndOrder() throws {
        let (folder, store) = try makeStore()
        _ = folder
        var ids: [String: [Int64]] = [:]
        for (index, (pipeline, status)) in [
            ("iris", RunStatus.succeeded), ("iris", .failed), ("wine", .succeeded),
            ("iris", .succeeded), ("wine", .failed), ("iris", .running),
        ].enumerated() {
            let id = try store.createRun(sampleRun(pipeline: pipeline, startedAt: moment(Double(index))), stages: [])
            if status != .running {
                try store.finishRun(id: id, status: status, finishedAt: moment(Double(index) + 0.5))
            }
            ids["\(pipeline) \(status)", default: []].append(id)
        }

        #expect(try store.runs(RunFilter()).map(\.id) == [6, 5, 4, 3, 2, 1])
        #expect(try store.runs(RunFilter(limit: 2)).map(\.id) == [6, 5])
        #expect(try store.runs(RunFilter(limit: 0)).count == 6)
        #expect(try store.runs(RunFilter(pipeline: "iris")).map(\.id) == [6, 4, 2, 1])
        #expect(try store.runs(RunFilter(status: .failed)).map(\.id) == [5, 2])
        #expect(try store.runs(RunFilter(pipeline: "iris", status: .succeeded)).map(\.id) == [4, 1])
        #expect(try store.runs(RunFilter(pipeline: "iris", status: .succeeded, limit: 1)).map(\.id) == [4])
        #expect(try store.runs(RunFilter(pipeline: "nope")).isEmpty)
        #expect(ids["iris succeeded"] == [1, 4])
    }

    @Test("lists leave out the pipeline source, which run(id:) returns")
    func listsAreLight() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let id = try store.createRun(sampleRun(), stages: [])
        let listed = try #require(try store.runs(RunFilter()).first)
        #expect(listed.pipelineSource == "")
        #expect(listed.paramsJSON == sampleRun().paramsJSON)
        #expect(try store.run(id: id)?.pipelineSource == sampleRun().pipelineSource)
    }

    @Test("latest is the newest run of the pipeline, or of any, and nil when there is none")
    func latest() throws {
        let (folder, store) = try makeStore()
        _ = folder
        #expect(try store.latestRunID(pipeline: nil) == nil)
        let iris = try store.createRun(sampleRun(pipeline: "iris"), stages: [])
        let wine = try store.createRun(sampleRun(pipeline: "wine"), stages: [])
        #expect(try store.latestRunID(pipeline: nil) == wine)
        #expect(try store.latestRunID(pipeline: "iris") == iris)
        #expect(try store.latestRunID(pipeline: "mnist") == nil)
        #expect(try store.run(id: 99) == nil)
        #expect(try store.stages(runID: 99).isEmpty)
    }

    @Test("a re-run keeps its parent run")
    func parentRun() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let parent = try store.createRun(sampleRun(), stages: [])
        var rerun = sampleRun(parentRun: parent)
        rerun.trigger = .rerun
        let child = try store.createRun(rerun, stages: [])
        #expect(try store.run(id: child)?.parentRun == parent)
        #expect(try store.run(id: child)?.trigger == .rerun)
    }

    @Test("the last result is the newest succeeded or cached record with key components, of that pipeline")
    func lastResult() throws {
        let (folder, store) = try makeStore()
        _ = folder
        func record(_ pipeline: String, _ status: StageStatus, components: String?) throws -> Int64 {
            let id = try store.createRun(sampleRun(pipeline: pipeline), stages: plannedStages(["train"]))
            try store.updateStage(StageRecord(runID: id, name: "train", kind: "command", position: 0, status: status,
                                              keyComponentsJSON: components), outputs: nil)
            return id
        }
        #expect(try store.lastResult(pipeline: "iris", stage: "train", excludingRun: nil) == nil)
        let succeeded = try record("iris", .succeeded, components: #"{"v":1}"#)
        let cached = try record("iris", .cached, components: #"{"v":2}"#)
        _ = try record("iris", .failed, components: #"{"v":3}"#)
        _ = try record("iris", .succeeded, components: nil)
        _ = try record("wine", .succeeded, components: #"{"v":4}"#)
        let current = try store.createRun(sampleRun(pipeline: "iris"), stages: plannedStages(["train"]))

        let last = try #require(try store.lastResult(pipeline: "iris", stage: "train", excludingRun: current))
        #expect(last.runID == cached)
        #expect(last.keyComponentsJSON == #"{"v":2}"#)
        #expect(try store.lastResult(pipeline: "iris", stage: "train", excludingRun: cached)?.runID == succeeded)
        #expect(try store.lastResult(pipeline: "iris", stage: "evaluate", excludingRun: nil) == nil)
    }
}
