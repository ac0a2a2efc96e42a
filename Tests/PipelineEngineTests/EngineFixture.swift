import Canonical
import ArtifactStore
import Foundation
import GitState
@testable import PipelineEngine
import PipelineSpec
import RunStore
import Synchronization

/// A kind that does its work in-process: writes each declared output, counts its runs,
/// can fail, wait, and return results. The engine is tested with it and in-memory
/// stores only: no git, no SQLite, no processes.
struct ProbeKind: StageKind {
    let probe: Probe
    var schema: KindSchema { KindSchema(name: "probe", results: ["sha256", "size"], runAllowed: true) }
    var implementationVersion: String { "1" }

    func run(_ context: StageContext, settings: NoSettings) async throws -> StageResult {
        probe.started(context.stageName)
        defer { probe.ended(context.stageName) }
        if let delay = probe.delay(for: context.stageName) { try await Task.sleep(nanoseconds: delay) }
        if probe.shouldFail(context.stageName) { throw StageFailure("told to fail", exitCode: 1) }
        for (_, path) in context.outputs {
            try Data("\(context.stageName) \(context.command ?? "")\n".utf8).write(to: URL(fileURLWithPath: path))
        }
        return StageResult(exitCode: 0, results: probe.results(for: context.stageName))
    }
}

/// A probe whose results live outside the workspace (as a pushed image does): a hit is
/// trusted only when `Probe.outsideStillExists` says so.
struct ExternalKind: StageKind {
    let probe: Probe
    var schema: KindSchema { KindSchema(name: "external", results: ["sha256", "size"], runAllowed: true) }
    var implementationVersion: String { "1" }
    var cachedResultsLiveOutside: Bool { true }

    func run(_ context: StageContext, settings: NoSettings) async throws -> StageResult {
        try await ProbeKind(probe: probe).run(context, settings: settings)
    }

    func verifyCached(_ results: [String: Value], settings: NoSettings, context: StageContext) async throws -> Bool {
        probe.state.withLock { $0.checked.append(results) }
        return probe.state.withLock { $0.outsideStillExists }
    }
}

/// A probe that needs the secret TOKEN, whatever its settings.
struct NeedyKind: StageKind {
    let probe: Probe
    var schema: KindSchema { KindSchema(name: "needy", runAllowed: true) }
    var implementationVersion: String { "1" }
    func secrets(for settings: NoSettings) -> [String] { ["TOKEN"] }

    func run(_ context: StageContext, settings: NoSettings) async throws -> StageResult {
        probe.state.withLock { $0.sawToken.append(context.environment["TOKEN"]) }
        return try await ProbeKind(probe: probe).run(context, settings: settings)
    }
}

/// What a ``ProbeKind`` was told and what it saw; shared across tasks.
final class Probe: Sendable {
    struct State {
        var runs: [String] = []
        var running = 0
        var mostAtOnce = 0
        var failing: Set<String> = []
        var delays: [String: UInt64] = [:]
        var results: [String: [String: Value]] = [:]
        var outsideStillExists = true
        var checked: [[String: Value]] = []
        var sawToken: [String?] = []
    }
    let state = Mutex(State())

    func started(_ stage: String) {
        state.withLock { s in
            s.runs.append(stage)
            s.running += 1
            s.mostAtOnce = max(s.mostAtOnce, s.running)
        }
    }
    func ended(_ stage: String) { state.withLock { $0.running -= 1 } }
    func shouldFail(_ stage: String) -> Bool { state.withLock { $0.failing.contains(stage) } }
    func delay(for stage: String) -> UInt64? { state.withLock { $0.delays[stage] } }
    func results(for stage: String) -> [String: Value] { state.withLock { $0.results[stage] ?? [:] } }
    var runs: [String] { state.withLock { $0.runs } }
    var mostAtOnce: Int { state.withLock { $0.mostAtOnce } }
}

/// A workspace folder, in-memory stores and a probe kind; runs pipelines through the
/// engine's scheduler as `mlpipe run` does, minus git.
final class EngineFixture: Sendable {
    let folder: String
    let store = InMemoryRunStore()
    let objects = InMemoryArtifactStore()
    let locks = InMemoryKeyLocks()
    let probe = Probe()
    let events = Mutex<[RunEvent]>([])

    init() throws {
        folder = FileManager.default.temporaryDirectory.path + "/mlpipe-engine-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    var kinds: KindRegistry {
        var kinds = KindRegistry.core
        kinds.register(ProbeKind(probe: probe))
        kinds.register(ExternalKind(probe: probe))
        kinds.register(NeedyKind(probe: probe))
        return kinds
    }

    var cache: StageCache { StageCache(index: store, objects: objects, locks: locks) }

    func pipeline(_ yaml: String) throws -> Pipeline {
        try PipelineLoader.parse(source: yaml, file: "pipeline.yaml", kinds: kinds.schemas,
                                 secretProviders: SecretProviderRegistry.builtin(repositoryRoot: folder).names)
    }

    /// Plans and runs `pipeline` once; inputs are the given ids per stage.
    @discardableResult
    func run(_ pipeline: Pipeline, inputs: [String: [String: String]] = [:], jobs: Int = 2,
             force: Set<String> = [], secrets: [String: String] = [:]) async throws -> (id: Int64, summaries: [StageSummary], journal: RunJournal) {
        let record = RunRecord(id: nil, pipeline: pipeline.name, pipelineFile: pipeline.file, pipelineSource: pipeline.source,
                               pipelineDigest: "sha256:0", paramsJSON: "{}", commit: "c0ffee", branch: "main", dirty: false,
                               trigger: .cli, parentRun: nil, status: .running, startedAt: Date(), finishedAt: nil,
                               version: "test", host: "test", pid: 1, pidStartTime: 1)
        let positions = Dictionary(uniqueKeysWithValues: pipeline.topologicalOrder.enumerated().map { ($1, $0) })
        let stages = pipeline.stages.map { StageRecord(name: $0.name, kind: $0.kind, position: positions[$0.name] ?? 0) }
        let id = try await store.createRun(record, stages: stages)
        let context = RunContext(
            runID: id, pipeline: pipeline, head: HeadState(commit: "c0ffee", branch: "main", treeID: "t"),
            repositoryRoot: folder, workspace: Workspace(repositoryRoot: folder), runStore: store, cache: cache,
            kinds: kinds, executor: LocalProcessExecutor(), secrets: ResolvedSecrets(values: secrets),
            inputs: InputPlan(keys: inputs, dirtyPaths: []), options: RunOptions(jobs: jobs, force: force),
            forced: force, reuse: [:], positions: positions,
            events: { [self] event in self.events.withLock { $0.append(event) } })
        let summaries = await Scheduler(context: context, selected: Set(pipeline.stages.map(\.name))).run()
        return (id, summaries, context.journal)
    }
}

extension [StageSummary] {
    /// Stage name -> status, as a user reads the run's summary.
    var statuses: [String: StageStatus] { Dictionary(uniqueKeysWithValues: map { ($0.name, $0.status) }) }
    func named(_ name: String) -> StageSummary? { first { $0.name == name } }
}
