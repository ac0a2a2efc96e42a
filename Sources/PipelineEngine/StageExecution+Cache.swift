import Canonical
import ArtifactStore
import Foundation
import PipelineSpec
import RunStore

extension StageExecution {
    /// What the cache did for a stage.
    enum CacheOutcome {
        /// The cached result was taken: the stage is done.
        case taken((StageOutcome, StageSummary))
        /// The cache could not be asked (its index cannot be read): the stage failed.
        case failed((StageOutcome, StageSummary))
        /// The stage must run, for this reason.
        case runs(String)
    }

    /// Looks the key up and, on a hit, puts its outputs into this run's folder. After a
    /// local miss the remote cache is asked too, unless `askRemote` is false.
    func takeCached(kind: any StageKind, key: StageKey, record: inout StageRecord, askRemote: Bool = true) async -> CacheOutcome {
        let found: StageCache.LookUp
        do {
            found = try await cache.lookUp(key.text)
        } catch {
            return .failed(await finish(&record, status: .failed, error: error.message, category: .environment))
        }
        let hit: StageCache.Hit
        var origin: String?
        switch found {
        case .miss, .incomplete:
            guard askRemote else { return .runs("no local result") }
            // After a local miss, the remote cache (if any) is asked before computing.
            switch await remoteHit(key: key, record: &record) {
            case .hit(let value, let remote):
                hit = value
                origin = remote
            case .failed(let result):
                return .failed(result)
            case .none:
                if case .incomplete(_, let reason) = found { return .runs(reason) }
                return .runs(await explain(key.components, cacheable: true, forced: false))
            }
        case .hit(let value):
            hit = value
        }
        if kind.cachedResultsLiveOutside, let why = await stillHolds(hit, kind: kind) {
            return .runs(why)
        }
        let outputs: [String: OutputRecord]
        do {
            try Self.emptyFolder(stageDirectory)
            outputs = try await cache.materialize(hit, declared: stage.outputs, runID: runID, stage: stage.name,
                                                  into: stageDirectory)
        } catch {
            return .runs("the cached result of run #\(hit.runID) could not be restored (\(error)); computing it again")
        }
        if let metricsFile = stage.metrics, let metricsJSON = hit.entry.metricsJSON {
            // The metrics file is part of the stage's folder as the stage left it.
            let path = stageDirectory + "/" + metricsFile
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                if !FileManager.default.fileExists(atPath: path) {
                    try Data(metricsJSON.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                }
            } catch {
                return .runs("the cached metrics of run #\(hit.runID) could not be restored (\(error.localizedDescription))")
            }
        }
        if Date().timeIntervalSince(hit.entry.lastUsedAt) >= StageCache.touchInterval {
            do {
                try await cache.touch(key.text)
            } catch {
                warn(&record, "\(error.message); `cache gc` may treat this result as unused")
            }
        }
        // A remote result names a run of another machine: its origin is the reason, not cachedFrom.
        record.cachedFrom = origin == nil ? hit.runID : nil
        record.metricsJSON = hit.entry.metricsJSON
        record.resultsJSON = hit.entry.resultsJSON
        record.reason = origin ?? "cached: same key as run #\(hit.runID)"
        return .taken(await finish(&record, status: .cached, outputs: outputs, metrics: hit.metrics, results: hit.results))
    }

    /// Asks the kind whether a hit's results (a pushed image, a registered version) still
    /// exist; nil when they do, else why the stage runs again. Its log is the stage's log.
    func stillHolds(_ hit: StageCache.Hit, kind: any StageKind) async -> String? {
        let logPath = context.workspace.logPath(run: runID, stage: stage.name)
        do {
            let log = try LogSink(path: logPath, masker: masker)
            defer { try? log.close() }   // only the check's own lines; its verdict is what counts
            let execContext = try stageContext(kind: kind, log: log)
            let bound = try kind.bind(execContext.with, stage: stage)
            if try await bound.verifyCached(hit.results, execContext) { return nil }
            return "the cached result of run #\(hit.runID) no longer exists outside the workspace (the \(stage.kind) kind's check); computing it again"
        } catch {
            return "the cached result of run #\(hit.runID) could not be checked (\(masker.mask("\(error)"))); computing it again"
        }
    }

    /// Carries a result over from the run that `mlpipe rerun` repeats.
    func reuse(_ reused: ReusedResult, record: inout StageRecord) async -> (StageOutcome, StageSummary) {
        var outputs: [String: OutputRecord] = [:]
        do {
            try Self.emptyFolder(stageDirectory)
        } catch {
            return await finish(&record, status: .failed, error: "cannot prepare \(stageDirectory): \(error.localizedDescription)",
                                category: .environment)
        }
        for output in stage.outputs {
            guard let object = reused.outputs.first(where: { $0.name == output.name }),
                  let digest = Digest(parsing: object.digest) else {
                return await finish(&record, status: .failed,
                                    error: "run #\(reused.fromRun) has no output '\(output.name)' to reuse; re-run with --from \(stage.name)")
            }
            let path = stageDirectory + "/" + output.path
            do {
                try await cache.objects.materialize(
                    StoredObject(digest: digest, kind: ObjectKind(rawValue: object.kind) ?? .file, size: object.size), at: path)
            } catch {
                return await finish(&record, status: .failed,
                                    error: "cannot reuse output '\(output.name)' of run #\(reused.fromRun): \(error); re-run with --from \(stage.name)")
            }
            outputs[output.name] = OutputRecord(runID: runID, stage: stage.name, name: output.name, digest: object.digest,
                                                kind: object.kind, size: object.size, path: path)
        }
        record.cachedFrom = reused.fromRun
        record.metricsJSON = reused.metricsJSON
        record.resultsJSON = reused.resultsJSON
        record.reason = "reused from run #\(reused.fromRun), which this run repeats"
        let metrics = reused.metricsJSON.flatMap { Value.fromJSON(Data($0.utf8)) }
        return await finish(&record, status: .cached, outputs: outputs, metrics: metrics,
                            results: StageCache.decodeResults(reused.resultsJSON))
    }

    /// Why the stage runs: the fields of its key that changed since its last result.
    func explain(_ components: KeyComponents, cacheable: Bool, forced: Bool) async -> String {
        if forced { return "forced (--force or --from)" }
        if context.options.noCache { return "caching disabled (--no-cache)" }
        if !cacheable {
            return stage.cache == false ? "not cached (cache: false)" : "not cached (the \(stage.kind) kind always runs)"
        }
        return await RunExplainer(history: context.runStore).explain(
            components, pipeline: context.pipeline.name, stage: stage.name, excludingRun: runID)
    }
}

/// Says why a stage runs, from the key of its last result in the history.
struct RunExplainer: Sendable {
    var history: any RunStore

    func explain(_ components: KeyComponents, pipeline: String, stage: String, excludingRun: Int64?) async -> String {
        let last: StageRecord?
        let attempt: StageRecord?
        do {
            attempt = try await history.lastAttempt(pipeline: pipeline, stage: stage, excludingRun: excludingRun)
            // The newest attempt is usually the last result itself: one query, not two.
            if let attempt, attempt.status == .succeeded || attempt.status == .cached, attempt.keyComponentsJSON != nil {
                last = attempt
            } else {
                last = try await history.lastResult(pipeline: pipeline, stage: stage, excludingRun: excludingRun)
            }
        } catch {
            // Only the explanation is lost: the stage runs either way.
            return "no cached result for its key (its history cannot be read: \(error.reason))"
        }
        // A failed or cancelled attempt newer than the last result comes first: it is
        // what the user last saw of the stage.
        var failure: String?
        if let attempt, attempt.status == .failed || attempt.status == .cancelled,
           attempt.runID > (last?.runID ?? Int64.min) {
            failure = Self.describe(attempt)
        }
        guard let last, let json = last.keyComponentsJSON, let previous = KeyComponents.decode(json) else {
            return failure ?? "first run of this stage"
        }
        let differences = components.differences(from: previous)
        if differences.isEmpty {
            return failure ?? "no cached result for its key (the cache entry of run #\(last.runID) was removed)"
        }
        let changed = differences.joined(separator: "; ") + " (since run #\(last.runID))"
        return failure.map { "\($0); \(changed)" } ?? changed
    }

    /// "last run #12 failed (exit 1)", "last run #12 was cancelled".
    static func describe(_ attempt: StageRecord) -> String {
        if attempt.status == .cancelled { return "last run #\(attempt.runID) was cancelled" }
        if let code = attempt.exitCode { return "last run #\(attempt.runID) failed (exit \(code))" }
        if let error = attempt.error, !error.isEmpty {
            let firstLine = error.split(separator: "\n").first.map(String.init) ?? error
            return "last run #\(attempt.runID) failed (\(firstLine.prefix(100)))"
        }
        return "last run #\(attempt.runID) failed"
    }
}
