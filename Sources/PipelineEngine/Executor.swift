/// What to start: a shell command line, where, with which environment and time limit.
public struct ProcessSpec: Sendable {
    /// Passed to `/bin/sh -c`.
    public var command: String
    public var workingDirectory: String
    /// The whole environment of the process (nothing is inherited implicitly).
    public var environment: [String: String]
    /// Seconds; nil for none.
    public var timeout: Double?
    /// How long the process group gets between SIGTERM and SIGKILL on cancellation.
    public var gracePeriod: Double

    public init(command: String, workingDirectory: String, environment: [String: String],
                timeout: Double? = nil, gracePeriod: Double = 10) {
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
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
/// executor must end the whole process tree it started when the calling task is
/// cancelled or the timeout passes, and must send all output to the sink.
public protocol Executor: Sendable {
    func execute(_ spec: ProcessSpec, log: LogSink) async throws -> ProcessOutcome
}
