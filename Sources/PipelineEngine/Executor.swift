/// What to run for one stage, where, with which environment, resources and time limits.
///
/// One spec serves every executor: the local one runs it as a process on this machine,
/// a container executor (Kubernetes) as a Job. Fields that only a container executor can
/// honour (`image`, `resources`, `nodeSelector`) are ignored by `LocalProcessExecutor`,
/// which runs the command on the host as it is.
///
/// The stage's own environment and mlpipe's inherited one are kept apart: a local
/// process gets both (the stage's wins), while a container gets only the stage's, since
/// mlpipe's PATH or HOME mean nothing inside an image.
public struct ProcessSpec: Sendable {
    /// What to start.
    public enum Command: Sendable, Equatable {
        /// A shell command line, run with `/bin/sh -c` (a `run:` line).
        case shell(String)
        /// An argument vector; the first element is the program (a path, or a name looked
        /// up in the `PATH` of the environment).
        case argv([String])
    }

    /// What a stage may ask of the machine that runs it. Every field nil means "no
    /// request": the executor's default.
    public struct Resources: Sendable, Equatable {
        /// CPU cores, fractions allowed (Kubernetes `cpu: 500m` is 0.5).
        public var cpu: Double?
        /// Memory in bytes.
        public var memoryBytes: Int64?
        /// Whole GPUs.
        public var gpu: Int?

        /// A request; leave out what the stage does not need.
        public init(cpu: Double? = nil, memoryBytes: Int64? = nil, gpu: Int? = nil) {
            self.cpu = cpu
            self.memoryBytes = memoryBytes
            self.gpu = gpu
        }
    }

    /// The stage this runs: for messages ("stopping 1 running stage (train)") and for an
    /// executor that names what it starts (a Job).
    public var stageName: String
    public var command: Command
    /// For the local executor, a folder on this machine (the repository root); for a
    /// container executor, the path inside the container where the repository is.
    public var workingDirectory: String
    /// The stage's own variables: the pipeline's and the stage's `env:`, its secrets and
    /// the `MLPIPE_*` variables. Never includes mlpipe's inherited environment.
    public var environment: [String: String]
    /// mlpipe's own environment (PATH, HOME, …), which a local process inherits under
    /// `environment`; a container executor leaves it out.
    public var inheritedEnvironment: [String: String]
    /// The container image to run in (`python:3.12-slim`, a digest reference); nil runs
    /// the command on the executor's host. Ignored by `LocalProcessExecutor`.
    public var image: String?
    /// CPU, memory and GPU requests. Ignored by `LocalProcessExecutor`.
    public var resources: Resources
    /// Labels a node must carry to run the stage (Kubernetes `nodeSelector`). Ignored by
    /// `LocalProcessExecutor`.
    public var nodeSelector: [String: String]
    /// Seconds per attempt; nil for none.
    public var timeout: Double?
    /// Seconds the stage gets between the polite stop (SIGTERM) and the forced one
    /// (SIGKILL) on cancellation or timeout, unless the stop is escalated sooner (a
    /// second Ctrl-C, `RunningStages.killAll`).
    public var gracePeriod: Double

    /// A spec; `image`, `resources` and `nodeSelector` default to "none".
    public init(stageName: String, command: Command, workingDirectory: String,
                environment: [String: String], inheritedEnvironment: [String: String] = [:],
                image: String? = nil, resources: Resources = Resources(), nodeSelector: [String: String] = [:],
                timeout: Double? = nil, gracePeriod: Double = 10) {
        self.stageName = stageName
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.inheritedEnvironment = inheritedEnvironment
        self.image = image
        self.resources = resources
        self.nodeSelector = nodeSelector
        self.timeout = timeout
        self.gracePeriod = gracePeriod
    }
}

/// How a process ended.
public enum ProcessOutcome: Sendable, Equatable {
    case exited(Int32)
    case signalled(Int32)
    case timedOut
    case cancelled

    /// The exit code as a shell reports it (128+signal for a signal).
    public var exitCode: Int32? {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        case .timedOut, .cancelled: nil
        }
    }
}

/// Runs stage processes.
///
/// The seam for where work runs: local processes today; Kubernetes Jobs next. An
/// executor must end everything it started when the calling task is cancelled or the
/// timeout passes (politely, then by force after `gracePeriod`), must register what is
/// running with `RunningStages` so that an interrupt can escalate the stop at once, and
/// must send all output to the sink. A sink that cannot be written (a full disk) ends
/// the work and is thrown as the sink's `EngineError` (category `.environment`).
public protocol Executor: Sendable {
    func execute(_ spec: ProcessSpec, log: LogSink) async throws -> ProcessOutcome
}
