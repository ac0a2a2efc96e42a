/// One page of runs for `mlpipe serve`'s runs list: the filters of ``RunFilter`` plus
/// branch and commit prefix, and a keyset cursor instead of an offset.
///
/// `before` is the smallest run id of the previous page, so a page is
/// `WHERE … AND id < before ORDER BY id DESC LIMIT n`: an index range that stops after
/// `n` rows, which costs the same for page 2,000 as for page 1 (an OFFSET would read
/// and throw away every row before the page).
///
/// ```swift
/// let first = try store.runPage(RunPageQuery(pipeline: "iris"))
/// let second = try store.runPage(RunPageQuery(pipeline: "iris", before: first.last?.id))
/// ```
public struct RunPageQuery: Sendable, Hashable {
    /// Only runs of this pipeline.
    public var pipeline: String?
    /// Only runs with this status.
    public var status: RunStatus?
    /// Only runs on this branch.
    public var branch: String?
    /// Only runs whose commit starts with these hex digits (lowercase; at most 40).
    public var commitPrefix: String?
    /// Only runs with an id below this one: the cursor of the next page.
    public var before: Int64?
    /// At most this many runs (1 or more).
    public var limit: Int

    /// A query; the defaults give the newest 50 runs of every pipeline.
    public init(pipeline: String? = nil, status: RunStatus? = nil, branch: String? = nil,
                commitPrefix: String? = nil, before: Int64? = nil, limit: Int = 50) {
        self.pipeline = pipeline
        self.status = status
        self.branch = branch
        self.commitPrefix = commitPrefix
        self.before = before
        self.limit = max(1, limit)
    }
}

/// One numeric or other metric of one stage in one run, as the metric charts plot them.
public struct MetricPoint: Sendable, Hashable {
    /// The run it was recorded in.
    public var runID: Int64
    /// The run's commit (full SHA).
    public var commit: String
    /// When the run started.
    public var startedAt: Double
    /// The stage that reported it.
    public var stage: String
    /// The stage's metrics as recorded (a JSON object), unparsed.
    public var metricsJSON: String

    /// A point; `startedAt` is seconds since 1970.
    public init(runID: Int64, commit: String, startedAt: Double, stage: String, metricsJSON: String) {
        self.runID = runID
        self.commit = commit
        self.startedAt = startedAt
        self.stage = stage
        self.metricsJSON = metricsJSON
    }
}
