/// What `ModelRegistry.register` records for a new version: the package, the image built
/// from it, its metrics, and where it came from.
///
/// The package digest identifies the version: a registry gives one package one version.
/// The rest is recorded with the first registration and never changed by a later one.
public struct Registration: Sendable, Hashable {
    /// The model's name (`ModelNames.checkModel`).
    public var name: String
    /// `sha256:<hex>` of the package's `mlpipe-model.json`.
    public var packageDigest: String
    /// `sha256:<hex>` of the image manifest built from the package, if one was built.
    public var imageDigest: String?
    /// The image by digest, `REGISTRY/REPOSITORY@sha256:…`, if it was pushed.
    public var image: String?
    /// Where the model can be fetched from (MLflow's `source`); nil lets the backend
    /// choose (the image reference, or the package digest).
    public var source: String?
    /// Numeric metrics, by name (`eval.accuracy`).
    public var metrics: [String: Double]
    /// The pipeline's name.
    public var pipeline: String?
    /// The stage that registered the package.
    public var stage: String?
    /// For each input path of the run, its git object id (a tree id for a folder).
    public var inputs: [String: String]
    /// The scan verdict recorded in the package (`safe`).
    public var scanVerdict: String?
    /// `sha256:<hex>` of the validate stage's report.
    public var scanReportDigest: String?
    /// The run, commit and user.
    public var provenance: Provenance
    /// An MLflow run to link the version to (MLflow's `run_id`); ignored by the local
    /// backend.
    public var mlflowRunID: String?
    /// A link to the run that made the model (MLflow's `run_link`); ignored by the local
    /// backend.
    public var runLink: String?

    /// Creates a registration.
    public init(name: String, packageDigest: String, imageDigest: String? = nil, image: String? = nil,
                source: String? = nil, metrics: [String: Double] = [:], pipeline: String? = nil, stage: String? = nil,
                inputs: [String: String] = [:], scanVerdict: String? = nil, scanReportDigest: String? = nil,
                provenance: Provenance, mlflowRunID: String? = nil, runLink: String? = nil) {
        self.name = name
        self.packageDigest = packageDigest
        self.imageDigest = imageDigest
        self.image = image
        self.source = source
        self.metrics = metrics
        self.pipeline = pipeline
        self.stage = stage
        self.inputs = inputs
        self.scanVerdict = scanVerdict
        self.scanReportDigest = scanReportDigest
        self.provenance = provenance
        self.mlflowRunID = mlflowRunID
        self.runLink = runLink
    }
}

/// What `ModelRegistry.register` returns: the version, and whether this call made it.
public struct RegistrationResult: Sendable, Hashable {
    /// The version that has the package.
    public var version: ModelVersion
    /// False when the package was already registered (by this or another process).
    public var created: Bool

    /// Creates a result.
    public init(version: ModelVersion, created: Bool) {
        self.version = version
        self.created = created
    }
}
