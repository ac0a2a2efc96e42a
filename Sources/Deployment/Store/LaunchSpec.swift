/// How a local deployment's process is started: what the `deployment` table keeps so that
/// `deployments rollback` can start a stopped version again exactly as it ran.
///
/// Holds no secret value: the token is named by its pipeline secret (`tokenSecret`), and
/// a restart reads it from the environment variable of that name. Stored as JSON
/// (`launch_json`) with sorted keys.
public struct LaunchSpec: Sendable, Hashable, Codable {
    /// The Python that runs the app: `<venv>/bin/python`.
    public var python: String
    /// The serving app's folder (a copy made for this deployment), put on PYTHONPATH.
    public var app: String
    /// The model package (a copy made for this deployment): MLPIPE_MODEL_DIR.
    public var package: String
    /// The model's name and version, reported by the app.
    public var modelVersion: Int
    /// The port on 127.0.0.1.
    public var port: Int
    /// Extra environment of the service (`env:` of the deploy stage), without secrets.
    public var environment: [String: String]
    /// The secret whose value is the JWT key (MLPIPE_AUTH_JWT_KEY), by name.
    public var tokenSecret: String?
    /// PEM paths: both set means HTTPS.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// The MLflow server where the deploy moved its alias; nil for the workspace's local
    /// registry (and in rows written before this field existed).
    public var aliasRegistry: AliasRegistry?

    /// Creates a spec.
    public init(python: String, app: String, package: String, modelVersion: Int, port: Int,
                environment: [String: String] = [:], tokenSecret: String? = nil,
                tlsCertificate: String? = nil, tlsKey: String? = nil, aliasRegistry: AliasRegistry? = nil) {
        self.python = python
        self.app = app
        self.package = package
        self.modelVersion = modelVersion
        self.port = port
        self.environment = environment
        self.tokenSecret = tokenSecret
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.aliasRegistry = aliasRegistry
    }

    /// `https` with a certificate and key, else `http`.
    public var scheme: String { tlsCertificate != nil && tlsKey != nil ? "https" : "http" }

    /// Where it answers.
    public var endpoint: ServiceEndpoint { ServiceEndpoint(scheme: scheme, host: "127.0.0.1", port: port) }
}
