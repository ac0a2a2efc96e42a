import PipelineSpec
import RunStore

/// A kind of stage: what `kind:` names in a pipeline file.
///
/// A new kind is one file that conforms to this protocol plus one line that registers it
/// (`KindRegistry.register`). Its `schema` is checked at lint time, before anything runs:
/// every stage's `with:` is decoded into `schema.settings` (which must be `Settings`), and
/// every `${{ stages.NAME.results.KEY }}` must name one of `schema.results`. Its
/// `implementationVersion` enters every cache key of its stages, so bumping it after a
/// fix disowns results the old code made.
///
/// The engine calls a kind through `bind`, which decodes the stage's rendered `with:` into
/// `Settings` when the stage starts, so `run` gets typed, checked settings.
public protocol StageKind: Sendable {
    /// The kind's `with:` settings; `NoSettings` for a kind that takes none.
    associatedtype Settings: KindSettings
    /// The `kind:` value, its settings type and results, whether it takes `run:`, and
    /// whether its stages are cached by default.
    var schema: KindSchema { get }
    /// Bump when a change of the implementation changes what the kind produces.
    var implementationVersion: String { get }
    /// Names of the pipeline secrets the kind needs, given its settings (default: none).
    /// The stage must list each in its `secrets:` (a stage gets no other); one it does
    /// not list fails the stage, saying which.
    func secrets(for settings: Settings) -> [String]
    /// Does the stage's work. Declared outputs must exist in `context.outputDirectory`
    /// when it returns, and its results use only keys of `schema.results`; a failure is
    /// thrown as `StageFailure`. Must stop promptly when the task is cancelled.
    func run(_ context: StageContext, settings: Settings) async throws -> StageResult
    /// True for a kind whose results live outside the workspace (a pushed image, a
    /// registered version): the engine then calls `verifyCached` before it trusts a cache
    /// hit. Default: false, and a hit costs no check.
    var cachedResultsLiveOutside: Bool { get }
    /// Whether a cached result that lives outside the workspace (a pushed image, a registered
    /// version) still exists; called before a cache hit is trusted when
    /// `cachedResultsLiveOutside`. Default: true.
    func verifyCached(_ results: [String: Value], settings: Settings, context: StageContext) async throws -> Bool
}

extension StageKind {
    /// No secrets.
    public func secrets(for settings: Settings) -> [String] { [] }

    /// Results live in the workspace's object store.
    public var cachedResultsLiveOutside: Bool { false }

    /// A cached result is trusted as it is.
    public func verifyCached(_ results: [String: Value], settings: Settings, context: StageContext) async throws -> Bool {
        true
    }

    /// The kind with the settings of one stage, from its rendered `with:` values, ready to
    /// run: what the engine calls. A value that does not fit `Settings` is a
    /// `SettingsFailure` whose diagnostics are at the places in the pipeline file where
    /// the values (or the expressions they came from) are written, with the messages
    /// `mlpipe lint` gives for the same values.
    public func bind(_ with: [String: Value], stage: Stage) throws(SettingsFailure) -> BoundKind {
        let settings = try SettingsDecoder.decode(Settings.self, from: with, of: stage)
        let declared = Set(schema.results)
        let name = schema.name
        return BoundKind(
            secrets: secrets(for: settings),
            run: { context in
                let result = try await run(context, settings: settings)
                if let key = result.results.keys.sorted().first(where: { !declared.contains($0) }) {
                    throw StageFailure("kind '\(name)' returned result '\(key)', which its schema does not declare; "
                                       + "add it to the kind's `KindSchema.results`")
                }
                return result
            },
            verifyCached: { results, context in try await verifyCached(results, settings: settings, context: context) })
    }
}

/// A kind bound to one stage's settings: what the engine runs, without knowing the
/// settings type.
public struct BoundKind: Sendable {
    /// The secrets the kind needs with these settings.
    public var secrets: [String]
    /// Runs the stage; a result with a key the kind's schema does not declare fails it.
    public var run: @Sendable (StageContext) async throws -> StageResult
    /// Whether a cached result of the stage still holds (`StageKind.verifyCached`).
    public var verifyCached: @Sendable ([String: Value], StageContext) async throws -> Bool

    /// Creates a binding; `StageKind.bind` is the usual way.
    public init(secrets: [String], run: @escaping @Sendable (StageContext) async throws -> StageResult,
                verifyCached: @escaping @Sendable ([String: Value], StageContext) async throws -> Bool) {
        self.secrets = secrets
        self.run = run
        self.verifyCached = verifyCached
    }
}

/// Everything a stage kind may use while it runs.
///
/// The engine makes one per stage attempt; a test makes one with `init` to run a kind
/// alone, without a pipeline, git or a database.
public struct StageContext: Sendable {
    /// The run's number.
    public var runID: Int64
    /// The pipeline's `name:`.
    public var pipelineName: String
    /// The stage's name.
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
    /// The resolved `with:` settings, as values (a kind reads its typed `Settings`).
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
    /// Runs the stage's processes.
    public var executor: any Executor
    /// The workspace folder (objects, database, runs).
    public var workspace: String
    /// The commit the run is at (40 hex characters; empty in a test without git).
    public var commit: String = ""
    /// The branch, or nil when HEAD is detached.
    public var branch: String?
    /// The commit's time in seconds since 1970 (0 without git): what reproducible outputs
    /// carry instead of the clock's time. `SOURCE_DATE_EPOCH`, when set, is not read here.
    public var commitTime: Int64 = 0
    /// The run history this run is recorded in: the engine's own store (the workspace's
    /// SQLite file, a PostgreSQL server named by `MLPIPE_STORE`/`--store`, or memory), for
    /// a kind that reads what this run or an earlier one recorded (a register stage's
    /// lineage inputs, a deploy's package folder). A kind must read the history here,
    /// never by opening a store of its own, which may not be the one the run is in. Nil
    /// in a context a test made without one: a kind that needs the history then says so.
    public var runStore: (any RunStore)?

    /// Creates a context from its parts.
    public init(runID: Int64, pipelineName: String, stageName: String, repositoryRoot: String,
                outputDirectory: String, outputs: [String: String] = [:], upstreamOutputs: [String: String] = [:],
                command: String? = nil, with: [String: Value] = [:], environment: [String: String] = [:],
                inheritedEnvironment: [String: String] = [:],
                secrets: [String: String] = [:], log: LogSink, timeout: Double? = nil,
                executor: any Executor, workspace: String) {
        self.runID = runID
        self.pipelineName = pipelineName
        self.stageName = stageName
        self.repositoryRoot = repositoryRoot
        self.outputDirectory = outputDirectory
        self.outputs = outputs
        self.upstreamOutputs = upstreamOutputs
        self.command = command
        self.with = with
        self.environment = environment
        self.inheritedEnvironment = inheritedEnvironment
        self.secrets = secrets
        self.log = log
        self.timeout = timeout
        self.executor = executor
        self.workspace = workspace
    }
}

/// What a finished stage reports: its exit code and the typed results of its kind.
public struct StageResult: Sendable {
    /// The process exit code, where there was a process.
    public var exitCode: Int32?
    /// Values the kind hands downstream (`${{ stages.NAME.results.KEY }}`): an image
    /// digest, a registered version, an endpoint. Keys are from `KindSchema.results`.
    public var results: [String: Value]

    /// Creates a result.
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
    ///
    /// The kind's `schema.settings` must be its `Settings`: lint decodes `with:` into the
    /// one, the stage start into the other.
    public mutating func register(_ kind: any StageKind) {
        assert(Self.declaresItsSettings(kind), "kind '\(kind.schema.name)': schema.settings is not its Settings type")
        kinds[kind.schema.name] = kind
    }

    private static func declaresItsSettings<Kind: StageKind>(_ kind: Kind) -> Bool {
        kind.schema.settings == Kind.Settings.self
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
