import ArtifactStore
import Foundation
import PipelineSpec
import RunStore

/// One stage of one run: key, cache look-up, execution with retries, outputs.
///
/// Outputs enter the object store only after the stage succeeded and its declared
/// outputs exist, so a crash or a kill never leaves half an output in the store. While
/// a cacheable stage is computed, its key is locked (a file lock under
/// workspace/locks/): a second process that needs the same key waits, then takes the
/// cached result instead of computing it again.
struct StageExecution: Sendable {
    var context: RunContext
    var stage: Stage
    var upstream: [String: StageOutcome]

    var runID: Int64 { context.runID }
    var masker: SecretMasker { context.secrets.masker }

    func run() async -> (StageOutcome, StageSummary) {
        var record = StageRecord(runID: runID, name: stage.name, kind: stage.kind,
                                 position: context.positions[stage.name] ?? 0, status: .running,
                                 cacheKey: nil, cachedFrom: nil, attempts: 0, exitCode: nil, error: nil,
                                 reason: nil, keyComponentsJSON: nil, metricsJSON: nil,
                                 startedAt: Date(), finishedAt: nil, logPath: nil)
        guard let kind = context.kinds.kind(named: stage.kind) else {
            return finish(&record, status: .failed, error: "unknown kind '\(stage.kind)'", tail: [])
        }
        let stageDir = context.workspace.stageDirectory(run: runID, stage: stage.name)
        let outputPaths = Dictionary(uniqueKeysWithValues: stage.outputs.map { ($0.name, stageDir + "/" + $0.path) })

        // A re-run carries over what succeeded in the run it repeats.
        if let reused = context.reuse[stage.name] {
            return reuse(reused, record: &record, stageDir: stageDir)
        }

        // The cache key.
        let components: KeyComponents
        do {
            components = try keyComponents(kind: kind)
        } catch {
            return finish(&record, status: .failed, error: masker.mask("\(error.location.file):\(error.location.line):\(error.location.column): \(error.message)"), tail: [])
        }
        let canonical = components.canonicalJSON
        let key = KeyComponents.key(ofCanonicalJSON: canonical)
        record.cacheKey = key
        record.keyComponentsJSON = canonical
        let cacheable = isCacheable(kind)
        let forced = context.forced.contains(stage.name)

        var lock: KeyLock?
        if cacheable {
            do {
                lock = try await KeyLock.acquire(key: key, in: context.workspace.locksPath)
            } catch is CancellationError {
                return finish(&record, status: .cancelled, error: "cancelled", tail: [])
            } catch {
                return finish(&record, status: .failed, error: "cannot lock cache key: \(error)", tail: [])
            }
        }
        defer { lock?.release() }

        var reason: String
        if cacheable && !forced, let hit = lookUp(key: key) {
            if let outcome = materializeCached(hit, record: &record, stageDir: stageDir) {
                return outcome
            }
            reason = "the cached result of run #\(hit.runID) is missing objects from the store"
        } else {
            reason = explain(components: components, cacheable: cacheable, forced: forced, kind: kind)
        }
        record.reason = reason

        // Execute, with retries.
        let log: LogSink
        let logPath = context.workspace.logPath(run: runID, stage: stage.name)
        do {
            try? FileManager.default.removeItem(atPath: stageDir)
            try FileManager.default.createDirectory(atPath: stageDir, withIntermediateDirectories: true)
            log = try LogSink(path: logPath, masker: masker)
        } catch {
            return finish(&record, status: .failed, error: "cannot prepare \(stageDir): \(error.localizedDescription)", tail: [])
        }
        record.logPath = logPath
        defer { log.close() }

        let execContext: StageContext
        do {
            execContext = try stageContext(kind: kind, stageDir: stageDir, outputPaths: outputPaths, log: log)
        } catch {
            return finish(&record, status: .failed, error: masker.mask("\(error.location.file):\(error.location.line):\(error.location.column): \(error.message)"), tail: [])
        }

        let bound: BoundKind
        do {
            bound = try kind.bind(execContext.with, stage: stage)
        } catch {
            return finish(&record, status: .failed, error: masker.mask(error.description), tail: [])
        }

        let attempts = stage.retries + 1
        var lastFailure: StageFailure?
        for attempt in 1...attempts {
            record.attempts = attempt
            record.status = .running
            save(record, outputs: nil)
            if attempt == 1 {
                context.events(.stageStarted(stage: stage.name, attempt: attempt, at: Date()))
            }
            do {
                let result = try await bound.run(execContext)
                record.exitCode = result.exitCode
                lastFailure = nil
                break
            } catch let failure as StageFailure {
                lastFailure = failure
                record.exitCode = failure.exitCode
            } catch is CancellationError {
                lastFailure = StageFailure("cancelled", reason: .cancelled)
            } catch {
                lastFailure = StageFailure(masker.mask("\(error)"))
            }
            if Task.isCancelled || lastFailure?.reason == .cancelled {
                lastFailure = StageFailure("cancelled", exitCode: record.exitCode, reason: .cancelled)
                break
            }
            if attempt < attempts, let failure = lastFailure {
                let message = masker.mask(failure.message)
                log.line("mlpipe: attempt \(attempt) of \(attempts) failed: \(message); retrying")
                context.events(.stageRetrying(stage: stage.name, attempt: attempt + 1, message: message, at: Date()))
            }
        }
        log.close()
        if let failure = lastFailure {
            let status: StageStatus = failure.reason == .cancelled ? .cancelled : .failed
            return finish(&record, status: status, error: masker.mask(failure.message), tail: status == .failed ? log.tail : [])
        }

        // Declared outputs must exist; then they enter the store.
        var outputs: [String: OutputRecord] = [:]
        for output in stage.outputs {
            let path = outputPaths[output.name]!
            guard FileManager.default.fileExists(atPath: path) else {
                return finish(&record, status: .failed,
                              error: "declared output '\(output.name)' (\(output.path)) was not written; write it to ${{ outputs.\(output.name) }} or $MLPIPE_OUTPUT_DIR/\(output.path)",
                              tail: log.tail)
            }
            do {
                let object = try context.artifacts.store(path: path)
                outputs[output.name] = OutputRecord(runID: runID, stage: stage.name, name: output.name,
                                                    digest: object.digest.description, kind: object.kind.rawValue,
                                                    size: object.size, path: path)
            } catch {
                return finish(&record, status: .failed, error: "cannot store output '\(output.name)': \(error)", tail: [])
            }
        }
        var metrics: Value?
        if let metricsFile = stage.metrics {
            let path = stageDir + "/" + metricsFile
            guard let data = FileManager.default.contents(atPath: path) else {
                return finish(&record, status: .failed,
                              error: "declared metrics file \(metricsFile) was not written; write a JSON object to $MLPIPE_OUTPUT_DIR/\(metricsFile)",
                              tail: log.tail)
            }
            guard let value = Value.fromJSON(data), case .object = value else {
                return finish(&record, status: .failed,
                              error: "metrics file \(metricsFile) is not a JSON object; write e.g. {\"accuracy\": 0.97}", tail: log.tail)
            }
            metrics = value
            record.metricsJSON = value.canonicalJSON()
        }
        if cacheable {
            let stored = stage.outputs.compactMap { output -> OutputRecord? in
                guard var o = outputs[output.name] else { return nil }
                o.path = output.path
                return o
            }
            let entry = CacheEntry(key: key, pipeline: context.pipeline.name, stage: stage.name, runID: runID,
                                   outputsJSON: encodeOutputs(stored), metricsJSON: record.metricsJSON,
                                   createdAt: Date(), lastUsedAt: Date())
            try? context.runStore.saveCacheEntry(entry)
        }
        return finish(&record, status: .succeeded, error: nil, tail: [], outputs: outputs, metrics: metrics)
    }

    // MARK: - Cache

    /// Whether the stage reads and writes the cache: its `cache:` or its kind's default,
    /// unless the run says `--no-cache`.
    func isCacheable(_ kind: any StageKind) -> Bool {
        (stage.cache ?? kind.schema.cachedByDefault) && !context.options.noCache
    }

    func lookUp(key: String) -> CacheEntry? {
        (try? context.runStore.cacheEntry(key: key)) ?? nil
    }

    func materializeCached(_ entry: CacheEntry, record: inout StageRecord, stageDir: String) -> (StageOutcome, StageSummary)? {
        guard let stored = decodeOutputs(entry.outputsJSON) else { return nil }
        var outputs: [String: OutputRecord] = [:]
        try? FileManager.default.removeItem(atPath: stageDir)
        for output in stage.outputs {
            guard let object = stored.first(where: { $0.name == output.name }),
                  let digest = Digest(parsing: object.digest),
                  context.artifacts.contains(digest) else { return nil }
            let path = stageDir + "/" + output.path
            do {
                try context.artifacts.materialize(
                    StoredObject(digest: digest, kind: ObjectKind(rawValue: object.kind) ?? .file, size: object.size), at: path)
            } catch {
                return nil
            }
            outputs[output.name] = OutputRecord(runID: runID, stage: stage.name, name: output.name, digest: object.digest,
                                                kind: object.kind, size: object.size, path: path)
        }
        if let metricsFile = stage.metrics, let metricsJSON = entry.metricsJSON {
            let path = stageDir + "/" + metricsFile
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: Data(metricsJSON.utf8))
            }
        }
        try? context.runStore.touchCacheEntry(key: entry.key, at: Date())
        // A cache entry is written only by the run that computed the result (see `run`),
        // so its run is where the result came from. (Reading that run's stages here cost
        // a query of every stage per cached stage: quadratic in a large pipeline.)
        let from = entry.runID
        record.cachedFrom = from
        record.metricsJSON = entry.metricsJSON
        record.reason = "cached: same key as run #\(from)"
        let metrics = entry.metricsJSON.flatMap { Value.fromJSON(Data($0.utf8)) }
        return finish(&record, status: .cached, error: nil, tail: [], outputs: outputs, metrics: metrics)
    }

    func reuse(_ reused: ReusedResult, record: inout StageRecord, stageDir: String) -> (StageOutcome, StageSummary) {
        var outputs: [String: OutputRecord] = [:]
        try? FileManager.default.removeItem(atPath: stageDir)
        for output in stage.outputs {
            guard let object = reused.outputs.first(where: { $0.name == output.name }),
                  let digest = Digest(parsing: object.digest) else {
                return finish(&record, status: .failed, error: "run #\(reused.fromRun) has no output '\(output.name)' to reuse; re-run with --from \(stage.name)", tail: [])
            }
            let path = stageDir + "/" + output.path
            do {
                try context.artifacts.materialize(
                    StoredObject(digest: digest, kind: ObjectKind(rawValue: object.kind) ?? .file, size: object.size), at: path)
            } catch {
                return finish(&record, status: .failed, error: "cannot reuse output '\(output.name)' of run #\(reused.fromRun): \(error); re-run with --from \(stage.name)", tail: [])
            }
            outputs[output.name] = OutputRecord(runID: runID, stage: stage.name, name: output.name, digest: object.digest,
                                                kind: object.kind, size: object.size, path: path)
        }
        record.cachedFrom = reused.fromRun
        record.metricsJSON = reused.metricsJSON
        record.reason = "reused from run #\(reused.fromRun), which this run repeats"
        let metrics = reused.metricsJSON.flatMap { Value.fromJSON(Data($0.utf8)) }
        return finish(&record, status: .cached, error: nil, tail: [], outputs: outputs, metrics: metrics)
    }

    /// Why the stage runs: the fields of its key that changed since its last result.
    func explain(components: KeyComponents, cacheable: Bool, forced: Bool, kind: any StageKind) -> String {
        if forced { return "forced (--force or --from)" }
        if context.options.noCache { return "caching disabled (--no-cache)" }
        if !cacheable {
            return stage.cache == false ? "not cached (cache: false)" : "not cached (the \(stage.kind) kind always runs)"
        }
        guard let last = try? context.runStore.lastResult(pipeline: context.pipeline.name, stage: stage.name, excludingRun: runID),
              let json = last.keyComponentsJSON, let previous = KeyComponents.decode(json) else {
            return "first run of this stage"
        }
        let differences = components.differences(from: previous)
        if differences.isEmpty {
            return "no cached result for its key (the cache entry of run #\(last.runID) was removed)"
        }
        return differences.joined(separator: "; ") + " (since run #\(last.runID))"
    }

    // MARK: - Key and context

    func keyComponents(kind: any StageKind) throws(ExpressionError) -> KeyComponents {
        let roots = ExpressionRoot(pipeline: context.pipeline, head: context.head, runID: runID, secrets: context.secrets.values)
        let keyContext = roots.context(for: stage, mode: .key, outputPaths: [:], upstream: upstream)
        let run = try stage.run?.render(keyContext)
        var with: [String: Value] = [:]
        for (name, value) in stage.with { with[name] = try value.render(keyContext) }
        var env = context.pipeline.env
        for (name, template) in stage.env { env[name] = try template.render(keyContext) }
        var references: [[String]] = stage.run?.references ?? []
        references += stage.with.values.flatMap(\.references)
        references += stage.env.values.flatMap(\.references)
        var params: [String: String] = [:]
        for path in references where path.count >= 2 && path[0] == "params" {
            if let value = context.pipeline.params[path[1]] { params[path[1]] = value.canonicalJSON() }
        }
        var upstreamDigests: [String: String] = [:]
        for (name, outcome) in upstream {
            for (output, record) in outcome.outputs { upstreamDigests["\(name).\(output)"] = record.digest }
        }
        return KeyComponents(
            kind: stage.kind, kindVersion: kind.implementationVersion, run: run,
            with: with.isEmpty ? nil : Value.object(with).canonicalJSON(),
            env: env, params: params, secrets: context.pipeline.secrets.keys.sorted(),
            inputs: context.inputs.keys[stage.name] ?? [:], upstream: upstreamDigests,
            outputs: Dictionary(uniqueKeysWithValues: stage.outputs.map { ($0.name, $0.path) }),
            metrics: stage.metrics)
    }

    func stageContext(kind: any StageKind, stageDir: String, outputPaths: [String: String], log: LogSink) throws(ExpressionError) -> StageContext {
        let roots = ExpressionRoot(pipeline: context.pipeline, head: context.head, runID: runID, secrets: context.secrets.values)
        let execContext = roots.context(for: stage, mode: .execution, outputPaths: outputPaths, upstream: upstream)
        let command = try stage.run?.render(execContext)
        var with: [String: Value] = [:]
        for (name, value) in stage.with { with[name] = try value.render(execContext) }
        var environment = context.inheritedEnvironment
        for (name, value) in context.pipeline.env { environment[name] = value }
        for (name, template) in stage.env { environment[name] = try template.render(execContext) }
        for (name, value) in context.secrets.values { environment[name] = value }
        environment["MLPIPE_RUN_ID"] = String(runID)
        environment["MLPIPE_STAGE"] = stage.name
        environment["MLPIPE_OUTPUT_DIR"] = stageDir
        environment["MLPIPE_PIPELINE"] = context.pipeline.name
        var upstreamPaths: [String: String] = [:]
        for (name, outcome) in upstream {
            for (output, record) in outcome.outputs { upstreamPaths["\(name).\(output)"] = record.path }
        }
        return StageContext(runID: runID, pipelineName: context.pipeline.name, stageName: stage.name,
                            repositoryRoot: context.repositoryRoot, outputDirectory: stageDir, outputs: outputPaths,
                            upstreamOutputs: upstreamPaths, command: command, with: with, environment: environment,
                            secrets: context.secrets.values, log: log, timeout: stage.timeout,
                            executor: context.executor, workspace: context.workspace.root)
    }

    // MARK: - Recording

    func save(_ record: StageRecord, outputs: [OutputRecord]?) {
        // The run goes on if one row cannot be written; the final update retries the row.
        try? context.runStore.updateStage(record, outputs: outputs)
    }

    func finish(_ record: inout StageRecord, status: StageStatus, error: String?, tail: [String],
                outputs: [String: OutputRecord] = [:], metrics: Value? = nil) -> (StageOutcome, StageSummary) {
        record.status = status
        record.error = error
        record.finishedAt = Date()
        if status == .failed && record.reason == nil { record.reason = error }
        let ordered = stage.outputs.compactMap { outputs[$0.name] }
        save(record, outputs: ordered)
        let summary = StageSummary(name: stage.name, kind: stage.kind, status: status, startedAt: record.startedAt,
                                   finishedAt: record.finishedAt, cachedFrom: record.cachedFrom, cacheKey: record.cacheKey,
                                   attempts: record.attempts, exitCode: record.exitCode, error: error,
                                   reason: record.reason, logTail: tail, logPath: record.logPath)
        context.events(.stageFinished(summary))
        return (StageOutcome(status: status, outputs: outputs, metrics: metrics), summary)
    }
}

func encodeOutputs(_ outputs: [OutputRecord]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(outputs)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
}

func decodeOutputs(_ json: String) -> [OutputRecord]? {
    try? JSONDecoder().decode([OutputRecord].self, from: Data(json.utf8))
}
