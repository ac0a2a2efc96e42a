import ArtifactStore
import Foundation
import PipelineSpec
import RunStore

/// One stage of one run, as a sequence of named steps: its key, the cache, the work,
/// its outputs, and its record.
///
/// Outputs enter the object store only after the stage succeeded and its declared
/// outputs exist, so a crash or a kill never leaves half an output in the store. While
/// a cacheable stage is computed, its key is locked (``StageCache/lock(_:)``): a second
/// process that needs the same key waits, then takes the cached result instead of
/// computing it again.
struct StageExecution: Sendable {
    var context: RunContext
    var stage: Stage
    var upstream: [String: StageOutcome]

    var runID: Int64 { context.runID }
    var masker: SecretMasker { context.secrets.masker }
    var cache: StageCache { context.cache }
    var stageDirectory: String { context.workspace.stageDirectory(run: runID, stage: stage.name) }

    func run() async -> (StageOutcome, StageSummary) {
        var record = StageRecord(runID: runID, name: stage.name, kind: stage.kind,
                                 position: context.positions[stage.name] ?? 0, status: .running, startedAt: Date())
        guard let kind = context.kinds.kind(named: stage.kind) else {
            return await finish(&record, status: .failed, error: "unknown kind '\(stage.kind)'")
        }
        // A re-run carries over what succeeded in the run it repeats.
        if let reused = context.reuse[stage.name] {
            return await reuse(reused, record: &record)
        }

        let key: StageKey
        do {
            key = StageKey(try keyComponents(kind: kind))
        } catch {
            return await finish(&record, status: .failed, error: masker.mask(error.located))
        }
        record.cacheKey = key.text
        record.keyComponentsJSON = key.canonicalJSON
        let cacheable = isCacheable(kind)
        let forced = context.forced.contains(stage.name)

        // A local hit is taken without the key's lock: a saved entry never changes and
        // names only stored objects, and the lock is there so that two runners never
        // compute one key at once. With a PostgreSQL store each lock is a connection,
        // which a fully cached run of many stages would otherwise open once per stage.
        // Anything else (a miss, a result that cannot be restored) asks again under it.
        // A kind whose results live outside (an image, a version) is checked once, under it.
        if cacheable && !forced && !kind.cachedResultsLiveOutside {
            var probe = record
            switch await takeCached(kind: kind, key: key, record: &probe, askRemote: false) {
            case .taken(let result): return result
            case .failed(let result): return result
            case .runs: break
            }
        }

        var lease: KeyLease?
        if cacheable {
            do {
                lease = try await cache.lock(key.text)
            } catch is CancellationError {
                return await finish(&record, status: .cancelled, error: "cancelled")
            } catch {
                return await finish(&record, status: .failed, error: "cannot lock cache key: \(error)")
            }
        }
        defer { lease?.release() }

        var reason: String
        if cacheable && !forced {
            switch await takeCached(kind: kind, key: key, record: &record) {
            case .taken(let result): return result
            case .failed(let result): return result
            case .runs(let why): reason = why
            }
        } else {
            reason = await explain(key.components, cacheable: cacheable, forced: forced)
        }
        record.reason = reason
        if let refused = await refuseUncachedUpstream(reason: reason, record: &record) { return refused }
        if executorName == .kubernetes {
            return await computeOnCluster(kind: kind, key: key, cacheable: cacheable, record: &record)
        }
        return await compute(kind: kind, key: key, cacheable: cacheable, record: &record)
    }

    /// With `--cached-upstream`, a stage the `--only` stages need is taken from the cache
    /// or fails; it is never computed (in a workflow, another task computes it).
    func refuseUncachedUpstream(reason: String, record: inout StageRecord) async -> (StageOutcome, StageSummary)? {
        guard context.options.cachedUpstream, !context.options.only.contains(stage.name) else { return nil }
        let needing = context.options.only.sorted().joined(separator: ", ")
        return await finish(&record, status: .failed,
                            error: "stage '\(stage.name)' is needed by \(needing) and --cached-upstream takes it from the cache, "
                                + "but neither the local nor the remote cache has its result (\(reason)); run it first: "
                                + "in a workflow, the task of '\(stage.name)' must succeed before this one",
                            category: .environment)
    }

    // MARK: - Computing

    /// Runs the kind (with retries), then stores its outputs and saves the cache entry.
    func compute(kind: any StageKind, key: StageKey, cacheable: Bool,
                 record: inout StageRecord) async -> (StageOutcome, StageSummary) {
        let folder = stageDirectory
        let logPath = context.workspace.logPath(run: runID, stage: stage.name)
        let log: LogSink
        do {
            try Self.emptyFolder(folder)
            log = try LogSink(path: logPath, masker: masker)
        } catch let error as EngineError {
            return await finish(&record, status: .failed, error: error.message, category: .environment)
        } catch {
            return await finish(&record, status: .failed, error: "cannot prepare \(folder): \(error.localizedDescription)",
                                category: .environment)
        }
        record.logPath = logPath
        // Closed and checked below; this only releases the file on the early returns.
        defer { try? log.close() }

        let execContext: StageContext
        do {
            execContext = try stageContext(kind: kind, log: log)
        } catch {
            return await finish(&record, status: .failed, error: masker.mask(error.located))
        }

        let bound: BoundKind
        do {
            bound = try kind.bind(execContext.with, stage: stage)
        } catch {
            return await finish(&record, status: .failed, error: masker.mask(error.description))
        }
        // A stage gets only the secrets it lists; a kind that needs one more says which.
        let unlisted = bound.secrets.filter { !stage.secrets.contains($0) }
        if let name = unlisted.first {
            return await finish(&record, status: .failed,
                                error: "\(stage.location.file):\(stage.location.line):\(stage.location.column): kind '\(stage.kind)' needs secret '\(name)' with these settings, and stage '\(stage.name)' does not list it; add it to the stage's `secrets:`")
        }

        let result: StageResult
        switch await attempt(bound, context: execContext, log: log, record: &record) {
        case .success(let value): result = value
        case .failure(let failure):
            let status: StageStatus = failure.reason == .cancelled ? .cancelled : .failed
            // A log that could not be written (a full disk) is the machine's failure, not the stage's.
            if status == .failed, let error = Self.closeFailure(log) {
                return await finish(&record, status: .failed, error: error.message, tail: log.tail, category: .environment)
            }
            return await finish(&record, status: status, error: masker.mask(failure.message),
                                tail: status == .failed ? log.tail : [])
        }
        if let error = Self.closeFailure(log) {
            return await finish(&record, status: .failed, error: error.message, tail: log.tail, category: .environment)
        }

        // Declared outputs must exist; then they enter the store.
        for output in stage.outputs where !FileManager.default.fileExists(atPath: folder + "/" + output.path) {
            return await finish(&record, status: .failed,
                                error: "declared output '\(output.name)' (\(output.path)) was not written; write it to ${{ outputs.\(output.name) }} or $MLPIPE_OUTPUT_DIR/\(output.path)",
                                tail: log.tail)
        }
        let outputs: [String: OutputRecord]
        do {
            outputs = try await cache.storeOutputs(stage.outputs, runID: runID, stage: stage.name, folder: folder)
        } catch {
            return await finish(&record, status: .failed, error: "cannot store the outputs: \(error)", category: .environment)
        }
        var metrics: Value?
        if let metricsFile = stage.metrics {
            switch readMetrics(metricsFile, folder: folder) {
            case .success(let value):
                metrics = value
                record.metricsJSON = value.canonicalJSON()
            case .failure(let failure):
                return await finish(&record, status: .failed, error: failure.message, tail: log.tail)
            }
        }
        record.exitCode = result.exitCode
        record.resultsJSON = StageCache.encodeResults(result.results)
        if cacheable {
            do {
                try await cache.save(key: key.text, pipeline: context.pipeline.name, stage: stage.name, runID: runID,
                                     declared: stage.outputs, outputs: outputs, metricsJSON: record.metricsJSON,
                                     results: result.results)
            } catch {
                // The result stands; only its reuse is lost. Said, and recorded with the stage.
                warn(&record, "the result was not cached (\(error.message)); the next run will compute it again")
            }
            if let failed = await pushToRemote(key: key, outputs: outputs, metricsJSON: record.metricsJSON,
                                               results: result.results, record: &record) {
                return failed
            }
        }
        return await finish(&record, status: .succeeded, outputs: outputs, metrics: metrics, results: result.results)
    }

    /// Runs the kind up to `retries + 1` times; stops at the first success or cancellation.
    func attempt(_ bound: BoundKind, context execContext: StageContext, log: LogSink,
                 record: inout StageRecord) async -> Result<StageResult, StageFailure> {
        let attempts = stage.retries + 1
        var lastFailure = StageFailure("not started")
        for attempt in 1...attempts {
            record.attempts = attempt
            record.status = .running
            await save(&record, outputs: nil)
            if attempt == 1 {
                context.events(.stageStarted(stage: stage.name, attempt: attempt, at: Date()))
            }
            do {
                let result = try await bound.run(execContext)
                record.exitCode = result.exitCode
                return .success(result)
            } catch let failure as StageFailure {
                lastFailure = failure
                record.exitCode = failure.exitCode
            } catch is CancellationError {
                lastFailure = StageFailure("cancelled", reason: .cancelled)
            } catch let error as EngineError where error.category == .environment {
                // The machine failed, not the stage (its log hit a full disk): no retry.
                return .failure(StageFailure(masker.mask(error.message)))
            } catch {
                lastFailure = StageFailure(masker.mask("\(error)"))
            }
            if Task.isCancelled || lastFailure.reason == .cancelled {
                return .failure(StageFailure("cancelled", exitCode: record.exitCode, reason: .cancelled))
            }
            if attempt < attempts {
                let message = masker.mask(lastFailure.message)
                log.line("mlpipe: attempt \(attempt) of \(attempts) failed: \(message); retrying")
                context.events(.stageRetrying(stage: stage.name, attempt: attempt + 1, message: message, at: Date()))
            }
        }
        return .failure(lastFailure)
    }

    /// The metrics file as a JSON object, or the failure that says what to write.
    func readMetrics(_ file: String, folder: String) -> Result<Value, StageFailure> {
        let path = folder + "/" + file
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(StageFailure("declared metrics file \(file) was not written; write a JSON object to $MLPIPE_OUTPUT_DIR/\(file)"))
        }
        guard let value = Value.fromJSON(data), case .object = value else {
            return .failure(StageFailure("metrics file \(file) is not a JSON object; write e.g. {\"accuracy\": 0.97}"))
        }
        return .success(value)
    }

    /// Closes the log; the error of a write that failed, if any.
    static func closeFailure(_ log: LogSink) -> EngineError? {
        do {
            try log.close()
            return nil
        } catch {
            return error
        }
    }

    /// Whether the stage reads and writes the cache: its `cache:` or its kind's default,
    /// unless the run says `--no-cache`.
    func isCacheable(_ kind: any StageKind) -> Bool {
        (stage.cache ?? kind.schema.cachedByDefault) && !context.options.noCache
    }

    /// Removes what an earlier attempt or run left in the stage's folder, then makes it.
    static func emptyFolder(_ folder: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder) { try fm.removeItem(atPath: folder) }
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
}

extension ExpressionError {
    /// `FILE:LINE:COL: message`, as a stage's error shows it.
    var located: String { "\(location.file):\(location.line):\(location.column): \(message)" }
}
