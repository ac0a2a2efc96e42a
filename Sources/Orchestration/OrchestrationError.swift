/// Why a workflow or a Job could not be rendered, applied or followed; each message
/// says what to do. kubectl's output is kept as its last lines only, and never holds a
/// secret's value (manifests carry secrets by reference).
public enum OrchestrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The YAML emitter failed (a bug: every value is a plain string or number).
    case yaml(String)
    /// kubectl could not be started.
    case kubectlNotStarted(executable: String, reason: String)
    /// A kubectl command exited non-zero.
    case kubectlFailed(command: String, status: Int32, outputTail: String)
    /// The Job failed, or did not finish in time.
    case jobFailed(job: String, reason: String, outputTail: String)
    /// A manifest or kubeconfig could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .yaml(let reason):
            return "cannot write the manifest as YAML: \(reason)"
        case .kubectlNotStarted(let executable, let reason):
            return "cannot start \(executable): \(reason); install kubectl or put it on PATH"
        case .kubectlFailed(let command, let status, let tail):
            return "\(command) exited with status \(status)" + (tail.isEmpty ? "" : ": \(tail)")
        case .jobFailed(let job, let reason, let tail):
            return "Job \(job) \(reason)" + (tail.isEmpty ? "" : ": \(tail)")
                + "; see `kubectl describe job/\(job)` and the stage's log"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
