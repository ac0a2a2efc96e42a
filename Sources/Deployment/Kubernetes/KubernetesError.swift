/// A Kubernetes or Knative deployment that cannot be rendered, applied or rolled out.
///
/// kubectl's output is kept as its last lines only; it never holds the kubeconfig (the
/// applier passes its path, never its content), and secrets reach manifests by name only.
public enum KubernetesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model name, version, image or port cannot be deployed as given.
    case invalidWorkload(field: String, value: String, problem: String)
    /// The Knative revision name `NAME-vVERSION` is longer than the 63 characters allowed.
    case revisionNameTooLong(String)
    /// No Knative traffic split without the previous revision's name.
    case noPreviousRevision(service: String)
    /// A manifest could not be written to the output folder.
    case writeFailed(path: String, reason: String)
    /// kubectl could not be started.
    case kubectlNotStarted(executable: String, reason: String)
    /// A kubectl command other than the rollout check failed.
    case kubectlFailed(command: String, status: Int32, outputTail: String)
    /// The rollout did not become ready in time; `undone` says whether `rollout undo`
    /// brought the previous version back.
    case rolloutFailed(resource: String, outputTail: String, undone: Bool, undoOutputTail: String?)
    /// The Knative Service did not become ready in time (nothing to undo: Knative routes
    /// no traffic to a revision that is not ready).
    case knativeNotReady(resource: String, outputTail: String)

    /// What went wrong and how to fix it, in one line.
    public var description: String {
        switch self {
        case .invalidWorkload(let field, let value, let problem):
            return "cannot deploy to Kubernetes: the \(field) '\(value)' cannot be used; \(problem)"
        case .revisionNameTooLong(let name):
            return "the Knative revision name '\(name)' is longer than 63 characters; shorten the model's name or version"
        case .noPreviousRevision(let service):
            return "the traffic split of Knative service '\(service)' needs the previous revision; set "
                + "`traffic.previous_revision`, or deploy once without `traffic` first"
        case .writeFailed(let path, let reason):
            return "cannot write manifest \(path): \(reason)"
        case .kubectlNotStarted(let executable, let reason):
            return "cannot run \(executable): \(reason); install kubectl or give its path"
        case .kubectlFailed(let command, let status, let tail):
            return "`\(command)` exited with status \(status)" + (tail.isEmpty ? "" : ": \(tail)")
        case .rolloutFailed(let resource, let tail, let undone, let undoTail):
            let outcome = undone
                ? "rolled back to the previous version with `kubectl rollout undo`"
                : "`kubectl rollout undo` failed too" + (undoTail.map { ": \($0)" } ?? "") + "; check the cluster"
            return "the rollout of \(resource) did not complete" + (tail.isEmpty ? "" : " (\(tail))") + "; " + outcome
        case .knativeNotReady(let resource, let tail):
            return "\(resource) did not become ready" + (tail.isEmpty ? "" : " (\(tail))")
                + "; its new revision gets no traffic until it is; see `kubectl describe \(resource)`"
        }
    }
}
