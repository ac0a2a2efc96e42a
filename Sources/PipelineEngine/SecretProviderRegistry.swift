import Foundation
import PipelineSpec

/// The secret providers a run can use, by name: what `{ PROVIDER: REFERENCE }` may name.
///
/// Providers register as kinds do: a new one is one file conforming to `SecretProvider`
/// plus one `register` line where the registry is built. The loader gets `names`, so an
/// unknown provider is a pipeline-definition error at its line, before anything runs.
public struct SecretProviderRegistry: Sendable {
    public private(set) var providers: [String: any SecretProvider] = [:]

    /// An empty registry.
    public init() {}

    /// Adds a provider; a later registration of the same name replaces the earlier one.
    public mutating func register(_ provider: any SecretProvider) {
        providers[provider.name] = provider
    }

    public func provider(named name: String) -> (any SecretProvider)? { providers[name] }

    /// The names the pipeline loader accepts as providers.
    public var names: Set<String> { Set(providers.keys) }

    /// The providers that ship: `env` (mlpipe's environment), `file` (relative to
    /// `repositoryRoot`, which must be the user's repository, not a temporary worktree)
    /// and `vault` (OpenBao / Vault KV v2, configured by `environment`; it reads nothing
    /// until a `vault` secret is resolved, and holds one run's login and reads, so a
    /// registry is made per run).
    public static func builtin(repositoryRoot: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> SecretProviderRegistry {
        var registry = SecretProviderRegistry()
        registry.register(EnvironmentSecretProvider(environment: environment))
        registry.register(FileSecretProvider(baseDirectory: repositoryRoot))
        registry.register(VaultSecretProvider(environment: environment))
        return registry
    }

    /// The value of the secret `name` declared with `source`, from its provider.
    public func value(of name: String, from source: SecretSource) async throws(SecretError) -> String {
        guard let provider = providers[source.provider] else {
            let known = providers.keys.sorted().joined(separator: ", ")
            throw SecretError(.unknownProvider, secret: name, provider: source.provider, reference: source.reference,
                message: "no secret provider '\(source.provider)' is registered (known providers: \(known)); "
                    + "use one of them in the pipeline's `secrets:`")
        }
        return try await provider.value(of: name, reference: source.reference)
    }
}
