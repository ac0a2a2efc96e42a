import Foundation
import Orchestration
import PipelineSpec
import RunStore
import S3Store

/// What `mlpipe export argo` was asked to do.
public struct ExportOptions: Sendable {
    /// The pipeline, its params and the remote (`--remote`, else `MLPIPE_REMOTE`, else `remote:`).
    public var run: RunOptions
    /// Image, namespace, repository, Secret and store of the pods.
    public var cluster: ClusterOptions
    /// A `WorkflowTemplate` instead of a `Workflow`.
    public var template: Bool
    /// Leave out the stages whose result the remote already has.
    public var pruneCached: Bool
    /// The Secret with `username` and `password` for Argo's git artifact; nil for none.
    public var gitCredentials: String?

    /// Options; see the properties.
    public init(run: RunOptions, cluster: ClusterOptions, template: Bool = false, pruneCached: Bool = false,
                gitCredentials: String? = nil) {
        self.run = run
        self.cluster = cluster
        self.template = template
        self.pruneCached = pruneCached
        self.gitCredentials = gitCredentials
    }
}

/// The rendered workflow and what was left out of it.
public struct ArgoExport: Sendable {
    /// The YAML document.
    public var yaml: String
    /// The commit every pod checks out.
    public var commit: String
    /// The stages that are tasks, in the workflow's order.
    public var tasks: [String]
    /// The stages left out because the remote has their result, each with where it came from.
    public var pruned: [(stage: String, origin: String)]
}

extension PipelineRunner {
    /// Renders the pipeline at HEAD as an Argo Workflows DAG (see `ArgoWorkflowRenderer`
    /// and `PodTaskPlan`). Pods share results through the remote cache only, so a remote
    /// is required. With `pruneCached`, the remote is asked for each stage's key first
    /// (as `status` asks the local cache) and the stages it has are left out, with their
    /// dependents depending on what they depended on.
    public func exportArgo(_ options: ExportOptions) async throws(EngineError) -> ArgoExport {
        let (session, pipeline, head) = try await openAtHead(options.run)
        guard let remote = try RemoteLink.setting(options: options.run, pipeline: pipeline,
                                                  environment: ProcessInfo.processInfo.environment) else {
            throw EngineError(.definition,
                "the pods of an Argo workflow share results through a remote cache, and \(pipeline.file) names none; "
                + "give one with --remote s3://BUCKET/PREFIX?endpoint=URL, MLPIPE_REMOTE or `remote:` in the pipeline")
        }
        try Self.checkStore(options.cluster.store)
        let located = try PipelineLocator.locate(options.run.pipeline, repositoryRoot: session.repo.workdir,
                                                 currentDirectory: options.run.currentDirectory)
        let plan = PodTaskPlan(pipeline: pipeline, pipelinePath: Self.relative(located.path, to: session.repo.workdir),
                               remote: remote, params: options.run.params, cluster: options.cluster)
        let source = try PodTaskPlan.source(repositoryRoot: session.repo.workdir, commit: head.commit,
                                            cluster: options.cluster)

        var pruned: [(stage: String, origin: String)] = []
        if options.pruneCached {
            pruned = try await remotelyCached(pipeline: pipeline, session: session, head: head, remote: remote,
                                              options: options.run)
        }
        let prunedNames = Set(pruned.map(\.stage))
        var tasks: [PodTask] = []
        for name in pipeline.topologicalOrder where !prunedNames.contains(name) {
            guard let stage = pipeline.stage(named: name) else { continue }
            var task = try plan.task(for: stage)
            task.dependencies = Self.rewired(stage.dependencies, pruned: prunedNames, pipeline: pipeline)
                .map { plan.names[$0] }.sorted()
            tasks.append(task)
        }
        guard !tasks.isEmpty else {
            throw EngineError(.environment,
                "every stage of \(pipeline.file) is cached on the remote at commit \(head.shortCommit): there is nothing "
                + "to run, so no workflow was written (leave out --prune-cached to write one anyway)")
        }
        let settings = PodSettings(image: options.cluster.image, namespace: options.cluster.namespace,
                                   serviceAccount: options.cluster.serviceAccount)
        let yaml: String
        do {
            yaml = try ArgoWorkflowRenderer.render(tasks, source: source, settings: settings,
                                                   options: .init(pipeline: pipeline.name, template: options.template,
                                                                  gitCredentials: options.gitCredentials))
        } catch {
            throw EngineError(.internal, error.description, cause: error)
        }
        return ArgoExport(yaml: yaml, commit: head.commit, tasks: tasks.map(\.stage), pruned: pruned)
    }

    /// The dependencies of a kept stage with each pruned one replaced by what it
    /// depended on, transitively, so the order among the kept stages stays as it was.
    static func rewired(_ dependencies: [String], pruned: Set<String>, pipeline: Pipeline) -> [String] {
        var result = Set<String>()
        var queue = dependencies
        var seen = Set<String>()
        while let name = queue.popLast() {
            guard seen.insert(name).inserted else { continue }
            if pruned.contains(name) {
                queue += pipeline.stage(named: name)?.dependencies ?? []
            } else {
                result.insert(name)
            }
        }
        return result.sorted()
    }

    /// A store URL with a password would put the password in the manifest.
    static func checkStore(_ store: String?) throws(EngineError) {
        guard let store, let scheme = store.range(of: "://") else { return }
        let rest = store[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") {
            throw EngineError(.definition,
                "--store holds a password, which would be written into the manifest for anyone who can read it; "
                + "leave it out of the URL and give it to the pods from a Kubernetes Secret (for PostgreSQL, PGPASSWORD)")
        }
    }

    static func relative(_ path: String, to root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
