import PipelineSpec

/// A kind of stage: what `kind:` names in a pipeline file.
///
/// A new kind is one file that conforms to this protocol plus one line that registers it
/// (`KindRegistry.register`). Its `schema` is checked at lint time, before anything runs;
/// its `implementationVersion` enters every cache key of its stages, so bumping it after
/// a fix disowns results the old code made.
public protocol StageKind: Sendable {
    /// The `kind:` value, its `with:` keys, whether it takes `run:`, and whether its
    /// stages are cached by default.
    var schema: KindSchema { get }
    /// Bump when a change of the implementation changes what the kind produces.
    var implementationVersion: String { get }
    /// Does the stage's work. Declared outputs must exist in `context.outputDirectory`
    /// when it returns; a failure is thrown as `StageFailure`. Must stop promptly when
    /// the task is cancelled.
    func run(_ context: StageContext) async throws -> StageResult
}

/// Everything a stage kind may use while it runs.
public struct StageContext: Sendable {
    public var runID: Int64
    public var pipelineName: String
    public var stageName: String
    /// The repository root (a temporary worktree when re-running an old commit).
    public var repositoryRoot: String
    /// The stage's own folder for outputs: workspace/runs/<run>/<stage>.
    public var outputDirectory: String
    /// Declared outputs: name -> absolute path inside `outputDirectory`.
    public var outputs: [String: String]
    /// Outputs of upstream stages: "stage.output" -> absolute path.
    public var upstreamOutputs: [String: String]
    /// The resolved `run:` line, if any.
    public var command: String?
    /// The resolved `with:` settings.
    public var with: [String: Value]
    /// The stage's own environment: the pipeline's and the stage's env, every secret by
    /// name, and MLPIPE_RUN_ID, MLPIPE_STAGE, MLPIPE_OUTPUT_DIR. mlpipe's own environment
    /// is not merged in: it is `inheritedEnvironment`, which an executor adds underneath
    /// (the local one does; a container executor does not).
    public var environment: [String: String]
    /// mlpipe's own environment (PATH, HOME, …).
    public var inheritedEnvironment: [String: String] = [:]
    /// Secret values by name, for kinds that need them (for example a registry login).
    public var secrets: [String: String]
    /// The stage's log; everything written there is masked.
    public var log: LogSink
    /// Seconds per attempt, if the stage sets `timeout`.
    public var timeout: Double?
    public var executor: any Executor
    /// The workspace folder (objects, database, runs).
    public var workspace: String
}

/// What a finished stage reports.
public struct StageResult: Sendable {
    /// The process exit code, where there was a process.
    public var exitCode: Int32?
    /// Typed values the kind hands downstream (`stages.NAME.results.KEY`).
    public var results: [String: Value]

    public init(exitCode: Int32? = nil, results: [String: Value] = [:]) {
        self.exitCode = exitCode
        self.results = results
    }
}

/// A stage that did not succeed.
public struct StageFailure: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case failed
        case timedOut
        case cancelled
    }

    public var message: String
    public var exitCode: Int32?
    public var reason: Reason

    public init(_ message: String, exitCode: Int32? = nil, reason: Reason = .failed) {
        self.message = message
        self.exitCode = exitCode
        self.reason = reason
    }

    public var description: String { message }
}

/// The kinds a run can use, by name.
public struct KindRegistry: Sendable {
    public private(set) var kinds: [String: any StageKind] = [:]

    public init() {}

    /// Adds a kind; a later registration of the same name replaces the earlier one.
    public mutating func register(_ kind: any StageKind) {
        kinds[kind.schema.name] = kind
    }

    public func kind(named name: String) -> (any StageKind)? { kinds[name] }

    /// The schemas the pipeline loader checks `kind:`, `run:` and `with:` against.
    public var schemas: [String: KindSchema] { kinds.mapValues(\.schema) }

    /// The engine's own kinds: `command`.
    public static var core: KindRegistry {
        var registry = KindRegistry()
        registry.register(CommandKind())
        return registry
    }
}
