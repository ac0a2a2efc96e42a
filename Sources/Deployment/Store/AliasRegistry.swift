/// The MLflow tracking server whose alias a local deployment moved (`promote:` with a
/// deploy stage's `registry: { backend: mlflow, … }`), kept with the deployment so that a
/// rollback moves the alias back in the registry it was moved in.
///
/// A deployment without one moved its alias (if any) in the workspace's local registry.
/// Holds no secret value: the token is named by its pipeline secret, and a rollback reads
/// it from the environment variable of that name (as a restart reads the service's token).
public struct AliasRegistry: Sendable, Hashable, Codable {
    /// The server's base URL: `http://127.0.0.1:5000`.
    public var trackingURI: String
    /// The secret whose value is the server's bearer token, by name; nil for none.
    public var tokenSecret: String?

    /// Names a tracking server.
    public init(trackingURI: String, tokenSecret: String? = nil) {
        self.trackingURI = trackingURI
        self.tokenSecret = tokenSecret
    }
}
