import Foundation

/// Which runs `mlpipe runs prune` removes the folders of.
///
/// A run is picked when every given condition holds; a `running` run and a run
/// already pruned are never picked. The conditions together, e.g. "failed runs
/// that ended over 30 days ago, except the 5 newest failed ones":
///
///     PruneSelection(keep: 5, endedBefore: Date() - 30 * 86_400, status: .failed)
public struct PruneSelection: Sendable, Hashable {
    /// The newest this-many finished runs (of ``status``, when given) keep their
    /// folders; nil or 0 keeps none for this reason. Runs still `running` are not
    /// counted: they are never pruned anyway, and `--keep 1` during a CI job should
    /// still keep the newest finished run.
    public var keep: Int?
    /// Only runs that ended before this moment (a run with no end time, by when it
    /// started).
    public var endedBefore: Date?
    /// Only runs with this status; `running` picks nothing.
    public var status: RunStatus?

    /// A selection; with no condition at all it picks every finished run.
    public init(keep: Int? = nil, endedBefore: Date? = nil, status: RunStatus? = nil) {
        self.keep = keep
        self.endedBefore = endedBefore
        self.status = status
    }
}
