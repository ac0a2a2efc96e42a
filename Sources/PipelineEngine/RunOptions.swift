import Foundation
import PipelineSpec
import RunStore

/// What `mlpipe run` (and `rerun`, and `status`) was asked to do.
public struct RunOptions: Sendable {
    /// A path, or a name under `pipelines/`; nil for the only one.
    public var pipeline: String?
    /// `--param key=value`, in the order given.
    public var params: [ParamOverride]
    /// At most this many stages at once.
    public var jobs: Int
    /// Stages to run even when a cached result exists.
    public var force: Set<String>
    /// Run only these stages and what they need; empty for all.
    public var only: Set<String>
    public var noCache: Bool
    public var requireClean: Bool
    public var trigger: Trigger
    /// `--workspace`, or MLPIPE_WORKSPACE; nil for `<repo>/workspace`.
    public var workspace: String?
    public var currentDirectory: String
    /// `--remote URL`: the remote cache, over `MLPIPE_REMOTE` and the pipeline's `remote:`.
    public var remote: String?
    /// `--remote-required`: a remote that cannot be used fails the run (exit 3) instead of
    /// a warning and a local run.
    public var remoteRequired: Bool
    /// `--name`: a label recorded with the run, shown by `runs`; nil for none.
    public var runName: String?
    /// `--cached-upstream` (with `--only`): the stages the `--only` stages need are taken
    /// from the cache (local or remote) and never computed; one that is not there fails
    /// the run, saying which. What a pod of an exported workflow runs.
    public var cachedUpstream = false
    /// `--run-key` (or `MLPIPE_RUN_KEY`): the run is the one of this key, shared by every
    /// task of one workflow (`{{workflow.uid}}` in an exported Argo workflow), created by
    /// the first and joined by the others (``RunStore/joinRun(_:key:stages:)``). The run
    /// then records only the `--only` stages, each with its host, and its status is set
    /// by the store from its stages; nil for a run of its own.
    public var runKey: String?
    /// `--executor`: where stages without `executor:` run; nil for this machine.
    public var executor: StageExecutorName?
    /// How a stage that runs on Kubernetes is put there.
    public var cluster = ClusterOptions()

    public init(pipeline: String? = nil, params: [ParamOverride] = [], jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                force: Set<String> = [], only: Set<String> = [], noCache: Bool = false, requireClean: Bool = false,
                trigger: Trigger = .cli, workspace: String? = nil,
                currentDirectory: String = FileManager.default.currentDirectoryPath,
                remote: String? = nil, remoteRequired: Bool = false, runName: String? = nil) {
        self.pipeline = pipeline
        self.params = params
        self.jobs = max(1, jobs)
        self.force = force
        self.only = only
        self.noCache = noCache
        self.requireClean = requireClean
        self.trigger = trigger
        self.workspace = workspace
        self.currentDirectory = currentDirectory
        self.remote = remote
        self.remoteRequired = remoteRequired
        self.runName = runName
    }
}

/// `--param key=value`.
public struct ParamOverride: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `key=value`; nil when there is no `=` or no key.
    public init?(parsing text: String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { return nil }
        key = String(text[..<eq])
        value = String(text[text.index(after: eq)...])
    }
}

/// A stage result carried over from an earlier run by `mlpipe rerun`.
struct ReusedResult: Sendable {
    var fromRun: Int64
    var outputs: [OutputRecord]
    var metricsJSON: String?
    var resultsJSON: String?
}

/// What differs between a fresh run and a re-run of an old one.
struct RerunPlan: Sendable {
    var parentRun: Int64
    var commit: String
    var branch: String?
    var pipelineSource: String
    var pipelineFile: String
    var paramsJSON: String
    var reuse: [String: ReusedResult]
    var forced: Set<String>
}
