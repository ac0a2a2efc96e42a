/// What a local deployment starts: the model version, its package and the serving app,
/// the Python to run them with, and the service's settings.
public struct LocalDeployRequest: Sendable {
    /// The deployment's name (deployments of one name replace each other).
    public var name: String
    /// The model and version served.
    public var model: String
    public var version: Int
    /// The model package folder (copied into the deployment's folder).
    public var package: String
    /// The serving app's folder, `templates/serving/python` (copied likewise).
    public var app: String
    /// `<venv>/bin/python` with the app's and the model's requirements.
    public var python: String
    /// The port on 127.0.0.1, or nil for a free one.
    public var port: Int?
    /// Extra environment of the service.
    public var environment: [String: String]
    /// The JWT key: the secret's name (kept) and value (given to the process only).
    public var token: (secret: String, value: String)?
    /// PEM paths for HTTPS.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Seconds to wait for `/v2/health/ready`.
    public var readyTimeout: Double
    /// The alias the caller moves to this version once it is ready, and where that alias
    /// points now (nil: nowhere), kept for a rollback.
    public var alias: String?
    public var aliasWas: Int?
    /// The MLflow server that holds `alias`; nil for the workspace's local registry.
    public var aliasRegistry: AliasRegistry?
    /// The run and stage deploying it.
    public var runID: Int64?
    public var stage: String?

    /// Creates a request.
    public init(name: String, model: String, version: Int, package: String, app: String, python: String,
                port: Int? = nil, environment: [String: String] = [:], token: (secret: String, value: String)? = nil,
                tlsCertificate: String? = nil, tlsKey: String? = nil, readyTimeout: Double = 60,
                alias: String? = nil, aliasWas: Int? = nil, aliasRegistry: AliasRegistry? = nil, runID: Int64? = nil, stage: String? = nil) {
        self.name = name
        self.model = model
        self.version = version
        self.package = package
        self.app = app
        self.python = python
        self.port = port
        self.environment = environment
        self.token = token
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.readyTimeout = readyTimeout
        self.alias = alias
        self.aliasWas = aliasWas
        self.aliasRegistry = aliasRegistry
        self.runID = runID
        self.stage = stage
    }
}
