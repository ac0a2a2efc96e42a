/// Where a package was made: the `source` of `mlpipe-model.json`.
///
/// The model registry follows it back from a version to the run and commit that made it
/// (lineage). `runId` is part of the package's bytes: two runs that build the same model
/// without a cache hit make packages that differ here, and only here.
public struct PackageSource: Sendable, Codable, Hashable {
    /// The commit the run was at: 40 hex characters (empty outside git).
    public var commit: String
    /// The pipeline's `name:`.
    public var pipeline: String
    /// The stage that made the package.
    public var stage: String
    /// The run's number.
    public var runId: Int64

    /// Creates a source.
    public init(commit: String, pipeline: String, stage: String, runId: Int64) {
        self.commit = commit
        self.pipeline = pipeline
        self.stage = stage
        self.runId = runId
    }
}
