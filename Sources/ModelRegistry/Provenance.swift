/// Who and what made a change to a registry: the run, commit and user that a version or
/// an alias move records.
///
/// A change made by hand (`mlpipe models alias`) has no run; its commit is the
/// repository's HEAD when known.
public struct Provenance: Sendable, Hashable, Codable {
    /// The mlpipe run, if a run made the change.
    public var runID: Int64?
    /// The commit (40 hex characters), if known.
    public var commit: String?
    /// The operating-system user that made it (`$USER`).
    public var user: String

    /// Creates a provenance.
    public init(runID: Int64? = nil, commit: String? = nil, user: String) {
        self.runID = runID
        self.commit = commit
        self.user = user
    }
}
