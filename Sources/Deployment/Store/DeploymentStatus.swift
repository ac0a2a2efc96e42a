/// Where a deployment is in its life, as the `deployment` table stores it.
///
/// `dead` is never stored: it is what `DeploymentRecord.state` reads for a deployment
/// that should be running (`candidate`, `serving`) but whose process is gone. A cluster
/// deployment (`kubernetes`, `knative`) has no process here: it is `rendered`, `applied`,
/// `failed` or (replaced by a later apply) `stopped`. The column is free text, so these
/// two need no migration; an older mlpipe refuses to read a row that has one.
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
    /// Manifests written for a cluster, not applied by mlpipe (`apply` is off).
    case rendered
    /// Manifests applied to a cluster with kubectl, and its rollout finished.
    case applied

    /// Whether a process should be running for it.
    public var expectsProcess: Bool { self == .starting || self == .candidate || self == .serving }

    /// Whether the deployment is over: the status records when it ended (`stoppedAt`).
    public var isEnded: Bool { self == .stopped || self == .failed || self == .rolledBack }
}
