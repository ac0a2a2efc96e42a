import ArtifactStore
import Foundation
import PipelineSpec
import RunStore
import S3Store

/// What `mlpipe cache push|pull` did, stage by stage.
public struct TransferReport: Sendable {
    /// `s3://bucket/prefix`.
    public var remote: String
    /// The run whose stages were moved.
    public var runID: Int64
    /// One line per stage with a cache key: what happened to it.
    public var lines: [String]
    /// Stages that could not be moved (no local entry, not on the remote).
    public var missing: Int
}

/// Moves a run's cached results to or from the remote cache by hand: `mlpipe cache push
/// [RUN]` uploads the local entries of its stages (objects first, then the entry, first
/// writer wins) and `cache pull [RUN]` downloads the remote's entries for its stages'
/// keys into the local cache.
///
/// The remote is `--remote` or `MLPIPE_REMOTE`; credentials come from the AWS variables.
public struct RemoteTransfer: Sendable {
    var backends: Backends
    var remote: any RemoteCache
    var details: RunDetails
    var scratch: String

    /// Opens the workspace, the run (`latest` by default) and the remote, and checks it.
    public static func open(_ reference: String, options: RunOptions,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            factory: @Sendable (RemoteURL, S3Credentials?) -> any RemoteCache = PipelineRunner.s3Remote)
        async throws(EngineError) -> RemoteTransfer {
        let workspace = try Workspace.located(options)
        let backends = try await Backends.open(workspace: workspace, environment: environment)
        let details = try await RunHistory(store: backends.runStore).details(reference)
        guard let setting = try RemoteLink.setting(options: options, pipeline: nil, environment: environment) else {
            throw EngineError(.definition, "no remote cache given; pass --remote s3://BUCKET/PREFIX?endpoint=URL or set MLPIPE_REMOTE")
        }
        let remote = factory(setting.url, S3Credentials.fromEnvironment(environment))
        do {
            try await remote.check()
        } catch {
            throw EngineError(.environment, "the remote cache \(remote) cannot be used: \(error.message)", cause: error)
        }
        return RemoteTransfer(backends: backends, remote: remote, details: details, scratch: workspace.root + "/tmp/remote")
    }

    /// Uploads the local cache entry of each stage of the run that has a key.
    public func push() async throws(EngineError) -> TransferReport {
        var report = TransferReport(remote: remote.description, runID: details.run.id ?? 0, lines: [], missing: 0)
        for stage in details.stages {
            guard let key = stage.cacheKey, stage.status == .succeeded || stage.status == .cached else { continue }
            let found: CacheEntry?
            do {
                found = try await backends.cache.index.cacheEntry(key: key)
            } catch {
                throw EngineError(.environment, "cannot read the cache index: \(error)", cause: error)
            }
            guard let local = found, let outputs = try? local.outputs() else {
                report.lines.append("\(stage.name): no local cache entry for its key (removed by `cache gc`?)")
                report.missing += 1
                continue
            }
            let entry = ActionEntry(
                key: key, stage: stage.name,
                outputs: outputs.map { ActionEntry.Output(name: $0.name, path: $0.path, digest: $0.digest, kind: $0.kind, size: $0.size) },
                metricsJSON: local.metricsJSON, resultsJSON: local.resultsJSON,
                origin: ActionEntry.Origin(run: local.runID, host: details.run.host, pipeline: local.pipeline,
                                           createdAt: local.createdAt))
            do {
                try await remote.upload(outputs.map(StageExecution.storedObject), from: backends.cache.objects, scratch: scratch)
                let kept = try await remote.publish(entry)
                report.lines.append(kept == entry
                    ? "\(stage.name): pushed"
                    : "\(stage.name): the remote already has a result for its key (run #\(kept.origin.run) on \(kept.origin.host)); kept")
            } catch {
                throw EngineError(.environment, "cannot push stage '\(stage.name)' to \(remote): \(error.message)", cause: error)
            }
        }
        return report
    }

    /// Downloads the remote's entry for each stage of the run that has a key, with the
    /// objects the local store lacks, and saves it as a local cache entry.
    public func pull() async throws(EngineError) -> TransferReport {
        var report = TransferReport(remote: remote.description, runID: details.run.id ?? 0, lines: [], missing: 0)
        for stage in details.stages {
            guard let key = stage.cacheKey else { continue }
            do {
                guard let entry = try await remote.entry(key: key) else {
                    report.lines.append("\(stage.name): the remote has no result for its key")
                    report.missing += 1
                    continue
                }
                let outputs = entry.outputs.map {
                    OutputRecord(runID: details.run.id ?? 0, stage: stage.name, name: $0.name, digest: $0.digest,
                                 kind: $0.kind, size: $0.size, path: $0.path)
                }
                try await remote.download(outputs.map(StageExecution.storedObject), into: backends.cache.objects, scratch: scratch)
                let local = CacheEntry(key: key, pipeline: details.run.pipeline, stage: stage.name, runID: details.run.id ?? 0,
                                       outputsJSON: try CacheEntry.encodeOutputs(outputs), metricsJSON: entry.metricsJSON,
                                       resultsJSON: entry.resultsJSON, createdAt: Date())
                try await backends.cache.index.saveCacheEntry(local)
                report.lines.append("\(stage.name): pulled (made by run #\(entry.origin.run) on \(entry.origin.host))")
            } catch let error as S3Error {
                throw EngineError(.environment, "cannot pull stage '\(stage.name)' from \(remote): \(error.message)", cause: error)
            } catch {
                throw EngineError(.environment, "cannot save the pulled result of stage '\(stage.name)': \(error)",
                                  cause: error as? (any Error & Sendable))
            }
        }
        return report
    }
}
