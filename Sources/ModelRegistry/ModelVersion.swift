import Foundation

/// One registered version of a model, as `models show` reports it.
///
/// Everything but `aliases` is fixed at registration; `aliases` are the ones that point
/// at the version now.
public struct ModelVersion: Sendable, Hashable {
    /// The model's name.
    public var name: String
    /// The version number, from 1.
    public var version: Int
    /// `sha256:<hex>` of the package's `mlpipe-model.json`: what identifies the version.
    public var packageDigest: String
    /// `sha256:<hex>` of the image manifest, if an image was built.
    public var imageDigest: String?
    /// The image by digest, `REGISTRY/REPOSITORY@sha256:…`, if it was pushed.
    public var image: String?
    /// Where the model can be fetched from (MLflow's `source`).
    public var source: String?
    /// Numeric metrics, by name.
    public var metrics: [String: Double]
    /// The pipeline's name.
    public var pipeline: String?
    /// The stage that registered it.
    public var stage: String?
    /// For each input path of the run, its git object id.
    public var inputs: [String: String]
    /// The scan verdict recorded in the package.
    public var scanVerdict: String?
    /// `sha256:<hex>` of the validate stage's report.
    public var scanReportDigest: String?
    /// The run, commit and user that registered it.
    public var provenance: Provenance
    /// When it was registered (the clock's time: registering is an event, not a build).
    public var createdAt: Date
    /// The aliases that point at it now, sorted.
    public var aliases: [String]

    /// Creates a version.
    public init(name: String, version: Int, packageDigest: String, imageDigest: String? = nil, image: String? = nil,
                source: String? = nil, metrics: [String: Double] = [:], pipeline: String? = nil, stage: String? = nil,
                inputs: [String: String] = [:], scanVerdict: String? = nil, scanReportDigest: String? = nil,
                provenance: Provenance, createdAt: Date, aliases: [String] = []) {
        self.name = name
        self.version = version
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
        self.createdAt = createdAt
        self.aliases = aliases
    }

    /// The version a registration becomes, numbered `version`, without aliases.
    public init(_ registration: Registration, version: Int, createdAt: Date) {
        self.init(name: registration.name, version: version, packageDigest: registration.packageDigest,
                  imageDigest: registration.imageDigest, image: registration.image, source: registration.source,
                  metrics: registration.metrics, pipeline: registration.pipeline, stage: registration.stage,
                  inputs: registration.inputs, scanVerdict: registration.scanVerdict,
                  scanReportDigest: registration.scanReportDigest, provenance: registration.provenance,
                  createdAt: createdAt)
    }

    /// `models:/NAME/VERSION`, the URI MLflow and mlpipe use for a version.
    public var uri: String { "models:/\(name)/\(version)" }
}
