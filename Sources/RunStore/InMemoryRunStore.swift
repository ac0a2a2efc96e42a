import Foundation
import Synchronization

/// Run history and cache index held in memory: the second implementation of
/// ``RunStore`` and ``CacheIndex``, which the engine's own unit tests run against
/// (scheduler, stage execution, re-run explanations, gc races) without SQLite.
///
/// It keeps the contracts the SQLite store keeps — ids increase and are never reused,
/// a stage given twice or an unknown parent run is refused, outputs are replaced only
/// when given — so that a test passing here says something about the engine, not about
/// a looser store. Nothing survives the process.
///
/// ``fail(operationsContaining:)`` makes chosen calls throw, so that tests can watch the
/// engine report a store that fails instead of swallowing it.
public final class InMemoryRunStore: RunStore, CacheIndex {
    struct State {
        var nextID: Int64 = 1
        var runs: [Int64: RunRecord] = [:]
        var stages: [Int64: [String: StageRecord]] = [:]
        var outputs: [Int64: [String: [OutputRecord]]] = [:]
        var entries: [String: CacheEntry] = [:]
        var keys: [String: Int64] = [:]
        var failingOperations: [String] = []
    }

    private let state = Mutex(State())

    /// An empty store.
    public init() {}

    /// Every call whose operation contains one of these words throws, until told
    /// otherwise: "cache entry" (saving or reading the cache index), "stage", "end of run".
    public func fail(operationsContaining words: [String]) {
        state.withLock { $0.failingOperations = words }
    }

    private func failure(_ operation: String, in s: inout State) -> RunStoreError? {
        guard s.failingOperations.contains(where: { operation.contains($0) }) else { return nil }
        return RunStoreError(code: .diskFull, operation: operation, path: nil,
                             reason: "the in-memory store was told to fail", remedy: "none: this is a test")
    }

    private func write<T>(_ operation: String, _ body: (inout State) throws(RunStoreError) -> T) throws(RunStoreError) -> T {
        try state.withLock { (s: inout State) throws(RunStoreError) -> T in
            if let error = failure(operation, in: &s) { throw error }
            return try body(&s)
        }
    }

    // MARK: RunStore

    public func createRun(_ run: RunRecord, stages: [StageRecord]) throws(RunStoreError) -> Int64 {
        try write("record a run of pipeline '\(run.pipeline)'") { (s: inout State) throws(RunStoreError) -> Int64 in
            try stages.checkDistinctNames(operation: "record a run", path: nil)
            if let parent = run.parentRun, s.runs[parent] == nil {
                throw RunStoreError(code: .notFound, operation: "record a run", path: nil,
                                    reason: "its parent run #\(parent) does not exist", remedy: "re-run a run that exists")
            }
            let id = s.nextID
            s.nextID += 1
            var record = run
            record.id = id
            s.runs[id] = record
            var byName: [String: StageRecord] = [:]
            for var stage in stages {
                stage.runID = id
                byName[stage.name] = stage
            }
            s.stages[id] = byName
            return id
        }
    }

    public func joinRun(_ run: RunRecord, key: String, stages: [StageRecord]) throws(RunStoreError) -> Int64 {
        // Looked up, created and keyed under one lock, so that a second caller finds the key.
        try write("record run '\(key)' of pipeline '\(run.pipeline)'") { (s: inout State) throws(RunStoreError) -> Int64 in
            let id: Int64
            if let existing = s.keys[key] {
                id = existing
            } else {
                id = s.nextID
                s.nextID += 1
                var record = run
                record.id = id
                s.runs[id] = record
                s.keys[key] = id
            }
            for var stage in stages where s.stages[id]?[stage.name] == nil {
                stage.runID = id
                s.stages[id, default: [:]][stage.name] = stage
            }
            return id
        }
    }

    public func updateStage(_ stage: StageRecord, outputs: [OutputRecord]?) throws(RunStoreError) {
        try write("record stage '\(stage.name)' of run #\(stage.runID)") { (s: inout State) throws(RunStoreError) in
            guard s.runs[stage.runID] != nil else {
                throw RunStoreError(code: .notFound, operation: "record a stage", path: nil,
                                    reason: "there is no run #\(stage.runID)", remedy: "create the run first")
            }
            s.stages[stage.runID, default: [:]][stage.name] = stage
            if let outputs { s.outputs[stage.runID, default: [:]][stage.name] = outputs }
            if s.keys.values.contains(stage.runID), let run = s.runs[stage.runID] {
                let stages = Array(s.stages[stage.runID, default: [:]].values)
                let status = RunStatus.ofStages(stages.map(\.status))
                s.runs[stage.runID]?.status = status
                s.runs[stage.runID]?.finishedAt = RunStatus.finishedAt(status, stageEnds: stages.map(\.finishedAt),
                                                                       startedAt: run.startedAt)
            }
        }
    }

    public func finishRun(id: Int64, status: RunStatus, finishedAt: Date) throws(RunStoreError) {
        try write("record the end of run #\(id)") { (s: inout State) throws(RunStoreError) in
            guard s.runs[id] != nil else {
                throw RunStoreError(code: .notFound, operation: "record the end of run #\(id)", path: nil,
                                    reason: "there is no run #\(id)", remedy: "create the run first")
            }
            s.runs[id]?.status = status
            s.runs[id]?.finishedAt = finishedAt
        }
    }

    public func run(id: Int64) -> RunRecord? {
        state.withLock { $0.runs[id] }
    }

    public func latestRunID(pipeline: String?) -> Int64? {
        state.withLock { s in
            s.runs.values.filter { pipeline == nil || $0.pipeline == pipeline }.compactMap(\.id).max()
        }
    }

    public func runs(_ filter: RunFilter) -> [RunRecord] {
        state.withLock { s in
            let matching = s.runs.values
                .filter { (filter.pipeline == nil || $0.pipeline == filter.pipeline) && (filter.status == nil || $0.status == filter.status)
                    && filter.matches(name: $0.name) }
                .sorted { ($0.id ?? 0) > ($1.id ?? 0) }
            return filter.limit > 0 ? Array(matching.prefix(filter.limit)) : matching
        }
    }

    public func stages(runID: Int64) -> [StageRecord] {
        state.withLock { s in
            (s.stages[runID] ?? [:]).values.sorted { ($0.position, $0.name) < ($1.position, $1.name) }
        }
    }

    public func outputs(runID: Int64) -> [OutputRecord] {
        state.withLock { s in
            let positions = (s.stages[runID] ?? [:]).mapValues(\.position)
            return (s.outputs[runID] ?? [:]).values.flatMap { $0 }
                .sorted { (positions[$0.stage] ?? 0, $0.stage, $0.name) < (positions[$1.stage] ?? 0, $1.stage, $1.name) }
        }
    }

    public func lastResult(pipeline: String, stage: String, excludingRun: Int64?) -> StageRecord? {
        state.withLock { s in
            let ids = s.runs.values.filter { $0.pipeline == pipeline && $0.id != excludingRun }.compactMap(\.id).sorted(by: >)
            for id in ids {
                if let record = s.stages[id]?[stage], record.status == .succeeded || record.status == .cached,
                   record.keyComponentsJSON != nil {
                    return record
                }
            }
            return nil
        }
    }

    public func lastAttempt(pipeline: String, stage: String, excludingRun: Int64?) -> StageRecord? {
        state.withLock { s in
            let ids = s.runs.values.filter { $0.pipeline == pipeline && $0.id != excludingRun }.compactMap(\.id).sorted(by: >)
            let outcomes: Set<StageStatus> = [.succeeded, .cached, .failed, .cancelled]
            for id in ids {
                if let record = s.stages[id]?[stage], outcomes.contains(record.status) { return record }
            }
            return nil
        }
    }

    public func markInterruptedRuns(host: String, isAlive: (Int32, Int64) -> Bool) throws(RunStoreError) -> [Int64] {
        let running = state.withLock { s in
            s.runs.values.filter { run in
                run.status == .running && run.host == host && !s.keys.values.contains { $0 == run.id }
            }
        }
        let dead = running.filter { !isAlive($0.pid, $0.pidStartTime) }.compactMap(\.id).sorted()
        guard !dead.isEmpty else { return [] }
        return try write("mark runs interrupted") { (s: inout State) throws(RunStoreError) -> [Int64] in
            var marked: [Int64] = []
            for id in dead where s.runs[id]?.status == .running {
                let stageTimes = (s.stages[id] ?? [:]).values.flatMap { [$0.startedAt, $0.finishedAt].compactMap { $0 } }
                let startedAt = s.runs[id]?.startedAt ?? .distantPast
                s.runs[id]?.status = .interrupted
                s.runs[id]?.finishedAt = max(startedAt, stageTimes.max() ?? .distantPast)
                for (name, stage) in s.stages[id] ?? [:] where stage.status == .running || stage.status == .pending {
                    s.stages[id]?[name]?.status = .cancelled
                    s.stages[id]?[name]?.error = "run interrupted"
                }
                marked.append(id)
            }
            return marked
        }
    }

    public func pipelineNames() -> [String] {
        state.withLock { Set($0.runs.values.map(\.pipeline)).sorted() }
    }

    public func runCount() -> Int {
        state.withLock { $0.runs.count }
    }

    public func runsToPrune(_ selection: PruneSelection) -> [RunRecord] {
        state.withLock { s in
            let finished = s.runs.values.filter { $0.status != .running && (selection.status == nil || $0.status == selection.status) }
                .sorted { ($0.id ?? 0) > ($1.id ?? 0) }
            let kept = Set(finished.prefix(max(0, selection.keep ?? 0)).compactMap(\.id))
            return finished.filter { run in
                run.prunedAt == nil && !kept.contains(run.id ?? 0)
                    && selection.endedBefore.map { (run.finishedAt ?? run.startedAt) < $0 } ?? true
            }.reversed().map { run in
                var listed = run
                listed.pipelineSource = ""
                return listed
            }
        }
    }

    public func markPruned(runIDs: [Int64], at date: Date) throws(RunStoreError) -> [Int64] {
        try write("mark runs pruned") { (s: inout State) throws(RunStoreError) -> [Int64] in
            runIDs.filter { id in
                guard let run = s.runs[id], run.status != .running, run.prunedAt == nil else { return false }
                s.runs[id]?.prunedAt = date
                return true
            }
        }
    }

    public func setNote(runID: Int64, _ text: String, append: Bool) throws(RunStoreError) -> RunRecord {
        try write("record the note of run #\(runID)") { (s: inout State) throws(RunStoreError) -> RunRecord in
            guard var run = s.runs[runID] else {
                throw RunStoreError(code: .notFound, operation: "record the note of run #\(runID)", path: nil,
                                    reason: "there is no run #\(runID)", remedy: "`mlpipe runs` lists the runs that exist")
            }
            let note = append ? [run.note, text].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n") : text
            run.note = note.isEmpty ? nil : note
            s.runs[runID] = run
            return run
        }
    }

    // MARK: CacheIndex

    public func cacheEntry(key: String) throws(RunStoreError) -> CacheEntry? {
        try state.withLock { (s: inout State) throws(RunStoreError) -> CacheEntry? in
            if let error = failure("read cache entry \(key)", in: &s) { throw error }
            return s.entries[key]
        }
    }

    public func saveCacheEntry(_ entry: CacheEntry) throws(RunStoreError) {
        try write("save cache entry \(entry.key)") { (s: inout State) throws(RunStoreError) in s.entries[entry.key] = entry }
    }

    public func touchCacheEntry(key: String, at: Date) throws(RunStoreError) {
        try write("mark cache entry \(key) used") { (s: inout State) throws(RunStoreError) in s.entries[key]?.lastUsedAt = at }
    }

    public func cacheEntries() -> [CacheEntry] {
        state.withLock { s in
            s.entries.values.sorted { ($1.lastUsedAt, $0.key) < ($0.lastUsedAt, $1.key) }
        }
    }

    public func deleteCacheEntries(keys: [String]) throws(RunStoreError) {
        try write("delete \(keys.count) cache entries") { (s: inout State) throws(RunStoreError) in
            for key in keys { s.entries[key] = nil }
        }
    }
}
