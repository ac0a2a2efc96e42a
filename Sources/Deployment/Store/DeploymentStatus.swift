/// Where a deployment is in its life, as the `deployment` table stores it.
///
/// `dead` is never stored: it is what `DeploymentRecord.state` reads for a deployment
/// that should be running (`candidate`, `serving`) but whose process is gone.
public enum DeploymentStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Started; its readiness is being waited for.
    case starting
    /// Ready, beside the version it replaces, until a smoke test confirms it.
    case candidate
    /// Ready and confirmed: the deployment that answers for its name.
    case serving
    /// Stopped: by `deployments stop`, or replaced by a newer confirmed one.
    case stopped
    /// Never became ready, or could not be started.
    case failed
    /// Stopped by a rollback (a failed smoke test, or `deployments rollback`).
    case rolledBack = "rolled-back"

    /// Whether a process should be running for it.
    public var expectsProcess: Bool { self == .starting || self == .candidate || self == .serving }
}
