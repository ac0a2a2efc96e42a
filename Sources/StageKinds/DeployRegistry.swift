import Deployment
import ModelRegistry
import PipelineEngine
import PipelineSpec
import PostgresRunStore

/// `registry:` of a `deploy` stage: the model registry that `model` is resolved in and
/// whose alias `promote` moves, with the keys a `register` stage takes for its backend.
///
/// ```yaml
/// registry: { backend: mlflow, tracking_uri: http://127.0.0.1:5000, token: MLFLOW_TOKEN }
/// ```
///
/// Absent, or `backend: local`: the workspace's registry. A deploy from MLflow records the
/// tracking URI and the token's secret name with the deployment (`AliasRegistry`), so
/// that a failed smoke test and `mlpipe deployments rollback` move the alias back on the
/// same server without being told again; they read the token from the secret (or the
/// environment variable) of that name.
struct DeployRegistry: Decodable, Sendable, Equatable {
    /// The backend, as a register stage names it.
    var backend: RegisterSettings.Backend

    /// The workspace's registry.
    static let local = DeployRegistry(backend: .local)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case backend, token
        case trackingURI = "tracking_uri"
    }

    init(backend: RegisterSettings.Backend) {
        self.backend = backend
    }

    /// Reads the keys with a register stage's rules: `tracking_uri` and `token` only with
    /// `backend: mlflow`, which needs `tracking_uri`.
    init(from decoder: any Decoder) throws {
        let settings = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try settings.decodeIfPresent(RegisterSettings.BackendName.self, forKey: .backend)?.backend ?? .local
        let uri = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .trackingURI)?.text
        let token = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .token)?.text
        backend = try RegisterSettings.Backend(kind, trackingURI: uri, token: token, in: settings, backendKey: .backend,
                                               mlflowOnly: [.trackingURI, .token])
    }

    /// The MLflow token's secret, when one is named.
    var tokenSecret: String? {
        if case .mlflow(_, let token) = backend { return token }
        return nil
    }

    /// What a local deployment records of it: nil for the local registry.
    var aliasRegistry: AliasRegistry? {
        guard case .mlflow(let uri, let token) = backend else { return nil }
        return AliasRegistry(trackingURI: uri, tokenSecret: token)
    }

    /// The registry, with the token from the stage's secrets.
    func open(_ context: StageContext) throws -> any ModelRegistry {
        do {
            return try RegisterKind.open(backend, context)
        } catch let error as RegistryError {
            throw StageFailure("deploy: cannot open the \(Self.name(of: backend)): \(error)")
        }
    }

    /// The registry a deployment's alias was moved in: MLflow's with the token read by
    /// its secret's name from `environment`, else the workspace's (on PostgreSQL when
    /// `MLPIPE_STORE` names a server).
    static func open(_ recorded: AliasRegistry?, workspace: String,
                     environment: [String: String]) throws(RegistryError) -> any ModelRegistry {
        guard let recorded else { return try StoreModelRegistry.open(databasePath: workspace + "/mlpipe.db") }
        return try MLflowModelRegistry(trackingURI: recorded.trackingURI,
                                       token: recorded.tokenSecret.flatMap { environment[$0] },
                                       tokenSource: recorded.tokenSecret.map { "secret \($0)" },
                                       historyPath: workspace + "/mlpipe.db")
    }

    /// The version `reference` names, or a stage failure that says which registry was
    /// asked and how to fix the reference or reach the registry.
    static func resolve(_ reference: ModelReference, in registry: any ModelRegistry) async throws -> ModelVersion {
        do throws(RegistryError) {
            return try await registry.resolve(reference)
        } catch {
            var text = "deploy: cannot resolve \(reference) in the \(name(of: registry.location)): \(error.message)"
            if let subject = error.subject, let guess = Suggestions.closest(to: subject, in: error.known) {
                text += "; did you mean '\(guess)'?"
            } else {
                text += "; \(error.remedy)"
            }
            if registry.location.hasPrefix("mlflow:"), error.isUsage {
                text += " (add `--tracking-uri \(registry.location.dropFirst(7))` to `mlpipe models` commands to see "
                    + "that registry)"
            }
            throw StageFailure(text)
        }
    }

    /// The version `alias` of `name` points at now, or nil when the alias does not exist.
    static func holder(of alias: String, name: String, in registry: any ModelRegistry) async throws -> Int? {
        do throws(RegistryError) {
            return try await registry.resolve(ModelReference(name: name, selector: .alias(alias))).version
        } catch where error.code == .unknownAlias {
            return nil
        } catch {
            throw StageFailure("deploy: cannot read alias '\(alias)' of \(name) in the \(self.name(of: registry.location)): "
                               + error.description)
        }
    }

    /// "local registry" or "MLflow registry at URI".
    static func name(of location: String) -> String {
        location.hasPrefix("mlflow:") ? "MLflow registry at \(location.dropFirst(7))" : "local registry"
    }

    static func name(of backend: RegisterSettings.Backend) -> String {
        switch backend {
        case .local: "local registry"
        case .mlflow(let uri, _): "MLflow registry at \(uri)"
        }
    }
}
