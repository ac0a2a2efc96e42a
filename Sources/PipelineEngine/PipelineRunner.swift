import Canonical
import ArtifactStore
import Foundation
import GitState
import PipelineSpec
import RunStore
import S3Store

/// Runs pipelines: plans, schedules, caches and records.
///
/// The one entry point of `mlpipe run` and `mlpipe rerun`. A run is planned in full
/// before anything starts (every pipeline-file error, every missing input and secret is
/// reported first), then its stages run as a DAG in one task group bounded by `jobs`.
/// Each stage is recorded as it changes, so a run killed at any moment leaves a whole
/// record behind, which the next command marks `interrupted`.
public struct PipelineRunner: Sendable {
    public var kinds: KindRegistry
    public var executor: any Executor
    /// The secret providers, given the root of the repository mlpipe was started in
    /// (never a re-run's temporary worktree, where git-ignored secret files are missing).
    public var secretProviders: @Sendable (_ repositoryRoot: String) -> SecretProviderRegistry
    /// Recorded with each run.
    public var version: String
    /// Opens the remote cache a run names (`--remote`, `MLPIPE_REMOTE`, `remote:`): S3 by
    /// default; the engine's tests give an ``InMemoryRemoteCache``.
    public var remoteCaches: @Sendable (RemoteURL, S3Credentials?) -> any RemoteCache = PipelineRunner.s3Remote

    public init(kinds: KindRegistry, executor: any Executor = LocalProcessExecutor(), version: String,
                secretProviders: @escaping @Sendable (_ repositoryRoot: String) -> SecretProviderRegistry = {
                    SecretProviderRegistry.builtin(repositoryRoot: $0)
                }) {
        self.kinds = kinds
        self.executor = executor
        self.secretProviders = secretProviders
        self.version = version
    }

    /// Runs the pipeline at HEAD (and the working tree).
    public func run(_ options: RunOptions, events: @escaping @Sendable (RunEvent) -> Void) async throws(EngineError) -> RunReport {
        let (session, pipeline, head) = try await openAtHead(options)
        return try await execute(pipeline: pipeline, session: session, head: head, repositoryRoot: session.repo.workdir,
                                 options: options, rerun: nil, events: events)
    }

    /// The session, the pipeline the options name (checked, params applied) and HEAD:
    /// what `run` and `status` both start from.
    func openAtHead(_ options: RunOptions) async throws(EngineError) -> (Session, Pipeline, HeadState) {
        let session = try await Session.open(options)
        let located = try PipelineLocator.locate(options.pipeline, repositoryRoot: session.repo.workdir,
                                                 currentDirectory: options.currentDirectory)
        var pipeline = try loadPipeline(path: located.path, display: located.display,
                                        secretProviders: secretProviders(session.repo.workdir).names)
        pipeline = try applyParamsFiles(pipeline, repositoryRoot: session.repo.workdir)
        pipeline = try applyParams(pipeline, options.params)
        return (session, pipeline, try gitHead(session.repo))
    }

    func loadPipeline(path: String, display: String, secretProviders: Set<String>) throws(EngineError) -> Pipeline {
        do {
            return try PipelineLoader.load(path: path, displayPath: display, kinds: kinds.schemas,
                                           secretProviders: secretProviders)
        } catch {
            throw EngineError.spec(error)
        }
    }

    /// `params_files:` over the `params:` defaults, read from the repository's working tree.
    func applyParamsFiles(_ pipeline: Pipeline, repositoryRoot: String) throws(EngineError) -> Pipeline {
        do {
            return try pipeline.applying(paramsFilesIn: repositoryRoot)
        } catch {
            throw EngineError.spec(error)
        }
    }

    func applyParams(_ pipeline: Pipeline, _ overrides: [ParamOverride]) throws(EngineError) -> Pipeline {
        guard !overrides.isEmpty else { return pipeline }
        do {
            return try pipeline.applying(paramOverrides: overrides.map { ($0.key, $0.value) })
        } catch {
            throw EngineError.spec(error)
        }
    }

    /// Plans and runs `pipeline`; shared by `run` and `rerun`.
    func execute(pipeline: Pipeline, session: Session, head: HeadState, repositoryRoot: String,
                 options: RunOptions, rerun: RerunPlan?, events: @escaping @Sendable (RunEvent) -> Void) async throws(EngineError) -> RunReport {
        // Which stages take part.
        let options = try selectingStages(options, in: pipeline)
        let selected: Set<String> = options.only.isEmpty
            ? Set(pipeline.stages.map(\.name))
            : options.only.union(pipeline.upstream(of: options.only))

        // Inputs: one status of the working tree for all the stages' inputs.
        let plan = try InputPlan.make(pipeline: pipeline, selected: selected, repo: session.repo,
                                      commit: head.commit, assumeClean: rerun != nil && repositoryRoot != session.repo.workdir)
        if options.requireClean && plan.isDirty {
            throw EngineError(.environment,
                "uncommitted changes to inputs: \(plan.dirtyPaths.prefix(5).joined(separator: ", "))\(plan.dirtyPaths.count > 5 ? ", …" : ""); commit or stash them, or run without --require-clean")
        }

        // File secrets are read from the user's repository even when the run happens in a
        // temporary worktree: a secret file is git-ignored, so the worktree does not have it.
        let secrets = try await ResolvedSecrets.resolve(try secretsToResolve(pipeline, options: options),
                                                        providers: secretProviders(session.repo.workdir))

        let remote = try await RemoteLink.open(options: options, pipeline: pipeline, secrets: secrets,
                                               workspace: session.workspace,
                                               environment: ProcessInfo.processInfo.environment, factory: remoteCaches)

        // The run record, with every stage pending.
        let identity = ProcessIdentity.current()
        let startedAt = Date()
        let paramsJSON = rerun?.paramsJSON ?? Value.object(pipeline.params).canonicalJSON()
        let record = RunRecord(
            id: nil, pipeline: pipeline.name, pipelineFile: rerun?.pipelineFile ?? pipeline.file,
            pipelineSource: pipeline.source, pipelineDigest: digest(of: pipeline.source),
            paramsJSON: paramsJSON, commit: head.commit, branch: head.branch, dirty: plan.isDirty,
            trigger: options.trigger, parentRun: rerun?.parentRun, status: .running, startedAt: startedAt,
            finishedAt: nil, version: version, host: ProcessIdentity.hostName(), pid: identity.pid,
            pidStartTime: identity.startTime, name: options.runName)
        let positions = Dictionary(uniqueKeysWithValues: pipeline.topologicalOrder.enumerated().map { ($1, $0) })
        let pending = pipeline.stages.map { stage in
            StageRecord(runID: 0, name: stage.name, kind: stage.kind, position: positions[stage.name] ?? 0,
                        status: .pending, cacheKey: nil, cachedFrom: nil, attempts: 0, exitCode: nil, error: nil,
                        reason: nil, keyComponentsJSON: nil, metricsJSON: nil, startedAt: nil, finishedAt: nil, logPath: nil)
        }
        let runID: Int64
        do {
            if let key = options.runKey {
                runID = try await session.runStore.joinRun(record, key: key, stages: pending)
            } else {
                runID = try await session.runStore.createRun(record, stages: pending)
            }
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        let lease: StoreLease
        do {
            lease = try await session.cache.objects.lease()
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        defer { lease.release() }

        events(.runStarted(RunHeader(id: runID, pipeline: pipeline.name, pipelineFile: record.pipelineFile,
                                     commit: head.commit, branch: head.branch, dirty: plan.isDirty,
                                     parentRun: rerun?.parentRun, stageCount: selected.count, startedAt: startedAt)))

        let context = RunContext(
            runID: runID, pipeline: pipeline, head: head, repositoryRoot: repositoryRoot,
            workspace: session.workspace, runStore: session.runStore, cache: session.cache,
            kinds: kinds, executor: executor, secrets: secrets, inputs: plan, options: options,
            forced: options.force.union(rerun?.forced ?? []), reuse: rerun?.reuse ?? [:],
            positions: positions, events: events, remote: remote)
        let summaries = await Scheduler(context: context, selected: selected).run()

        let finishedAt = Date()
        let status: RunStatus
        if summaries.contains(where: { $0.status == .cancelled }) || Task.isCancelled {
            status = .cancelled
        } else if summaries.contains(where: { $0.status == .failed || $0.status == .skipped && selected.contains($0.name) }) {
            status = .failed
        } else {
            status = .succeeded
        }
        // A keyed run's status is its stages', set by the store as each task records its own.
        do {
            if options.runKey == nil {
                try await session.runStore.finishRun(id: runID, status: status, finishedAt: finishedAt)
            }
        } catch {
            throw EngineError(.environment, "run #\(runID) ran, but its end cannot be recorded: \(error)", cause: error)
        }
        let ordered = summaries.sorted { (positions[$0.name] ?? 0) < (positions[$1.name] ?? 0) }
        var report = RunReport(runID: runID, pipeline: pipeline.name, status: status, startedAt: startedAt,
                               finishedAt: finishedAt, stages: ordered)
        report.environmentFailures = context.journal.environmentFailures
        events(.runFinished(report))
        let lost = context.journal.recordFailures
        if !lost.isEmpty {
            throw EngineError(.environment,
                "run #\(runID) finished \(status.rawValue), but its record is incomplete: \(lost.prefix(3).joined(separator: "; "))"
                + (lost.count > 3 ? "; and \(lost.count - 3) more" : "") + "; check that the workspace's disk and database are writable")
        }
        if status == .succeeded {
            try LatestRunLink.update(session.workspace, pipeline: pipeline.name, runID: runID)
        }
        return report
    }

    /// The options with `--only` and `--force` names made stage names: a stage with
    /// `matrix:`, named as written, stands for all its instances; an instance is named as
    /// shown (`train[lr=0.1,depth=3]`). An unknown name is a definition error.
    func selectingStages(_ options: RunOptions, in pipeline: Pipeline) throws(EngineError) -> RunOptions {
        for name in options.only.union(options.force).sorted() where pipeline.stages(named: name).isEmpty {
            throw EngineError(.definition, "no stage '\(name)' in \(pipeline.file)"
                + (Suggestions.closest(to: name, in: pipeline.stageNames).map { "; did you mean '\($0)'?" } ?? ""))
        }
        var selected = options
        selected.only = Set(options.only.flatMap { pipeline.stages(named: $0) })
        selected.force = Set(options.force.flatMap { pipeline.stages(named: $0) })
        return selected
    }

    /// Every declared secret; with `--cached-upstream`, only those of the `--only` stages
    /// and the remote's, since the stages they need come from the cache (a pod of an
    /// exported workflow is given no other), and, with `--executor local` too (what a pod
    /// runs), not the Kubernetes executor's kubeconfig, which never reaches a pod.
    func secretsToResolve(_ pipeline: Pipeline, options: RunOptions) throws(EngineError) -> [String: SecretSource] {
        guard options.cachedUpstream else { return pipeline.secrets }
        var needed = Set(options.only.flatMap { pipeline.stage(named: $0)?.secrets ?? [] })
        if options.executor == .local { needed.remove(PodTaskPlan.kubeconfigSecret) }
        let remote = try RemoteLink.setting(options: options, pipeline: pipeline, environment: ProcessInfo.processInfo.environment)
        needed.formUnion(remote?.secretNames ?? [])
        return pipeline.secrets.filter { needed.contains($0.key) }
    }

    func gitHead(_ repo: GitRepository) throws(EngineError) -> HeadState {
        do {
            return try repo.head()
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
    }
}

extension PipelineRunner {
    /// An S3 remote cache at `url`.
    @Sendable public static func s3Remote(_ url: RemoteURL, _ credentials: S3Credentials?) -> any RemoteCache {
        S3RemoteCache(client: S3Client(bucket: S3Bucket(bucket: url.bucket, prefix: url.prefix, endpoint: url.endpoint,
                                                        region: url.region),
                                       credentials: credentials))
    }
}

/// SHA-256 of a text, as `sha256:<hex>`.
func digest(of text: String) -> String {
    SHA256Hasher.digest(of: text.utf8).description
}

/// The repository, workspace and stores one command works with.
struct Session: Sendable {
    var repo: GitRepository
    var workspace: Workspace
    var backends: Backends
    var runStore: any RunStore { backends.runStore }
    var cache: StageCache { backends.cache }

    static func open(_ options: RunOptions) async throws(EngineError) -> Session {
        let repo: GitRepository
        do {
            repo = try GitRepository.discover(from: options.currentDirectory)
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
        let workspace = Workspace(repositoryRoot: repo.workdir, override: options.workspace,
                                  currentDirectory: options.currentDirectory)
        try workspace.prepare()
        return Session(repo: repo, workspace: workspace, backends: try await Backends.open(workspace: workspace))
    }
}

/// Everything the stages of one run share; immutable.
struct RunContext: Sendable {
    var runID: Int64
    var pipeline: Pipeline
    var head: HeadState
    var repositoryRoot: String
    var workspace: Workspace
    var runStore: any RunStore
    var cache: StageCache
    var kinds: KindRegistry
    var executor: any Executor
    var secrets: ResolvedSecrets
    var inputs: InputPlan
    var options: RunOptions
    var forced: Set<String>
    var reuse: [String: ReusedResult]
    var positions: [String: Int]
    var events: @Sendable (RunEvent) -> Void
    /// The remote cache, asked after a local miss and given each computed result.
    var remote: RemoteLink?
    /// mlpipe's own environment, which every process inherits; read once per run, since
    /// `ProcessInfo.environment` builds a new dictionary from `environ` on each call.
    var inheritedEnvironment: [String: String] = ProcessInfo.processInfo.environment
    /// Record writes that failed, and stages that failed because of the machine.
    var journal = RunJournal()

    /// Whether this process records stage `name`: every stage of a run of its own, only
    /// its `--only` stages in a keyed run, whose other stages are the other tasks' (a
    /// stage this task took from the cache must not overwrite the record of the task
    /// that computed it).
    func records(_ name: String) -> Bool {
        options.runKey == nil || options.only.contains(name)
    }
}
