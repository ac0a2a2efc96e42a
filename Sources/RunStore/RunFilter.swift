/// Which runs ``RunStore/runs(_:)`` lists.
///
/// Every combination of `pipeline` and `status` is served by an index, so a
/// page of results costs the same with 100 runs or 100,000.
public struct RunFilter: Sendable, Hashable {
    /// Only runs of this pipeline (its `name:`), or every pipeline when nil.
    public var pipeline: String?
    /// Only runs with this status, or any status when nil.
    public var status: RunStatus?
    /// At most this many runs, newest first; zero or less means no limit.
    public var limit: Int

    /// A filter; the defaults list the 20 newest runs of every pipeline.
    public init(pipeline: String? = nil, status: RunStatus? = nil, limit: Int = 20) {
        self.pipeline = pipeline
        self.status = status
        self.limit = limit
    }
}
