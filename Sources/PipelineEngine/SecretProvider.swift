import PipelineSpec

/// Looks up a secret's value where the pipeline file says it lives: the provider of
/// `{ PROVIDER: REFERENCE }`.
///
/// The seam for secret stores. A provider is one file that conforms to this protocol,
/// registered by name in a `SecretProviderRegistry` (as a kind is in a `KindRegistry`):
/// `env`, `file` and `vault` (HashiCorp Vault / OpenBao KV v2) ship, and
/// `InMemorySecretProvider` stands in for any of them in tests. The loader
/// learns the registered names, so a pipeline naming another provider is refused by
/// `mlpipe lint` before anything runs.
///
/// A provider is asked once per run for each secret the pipeline declares. It returns
/// the value, or throws a `SecretError` that names the secret and its source and never
/// holds the value, not even in its `cause`.
public protocol SecretProvider: Sendable {
    /// The key that selects this provider in `{ PROVIDER: REFERENCE }`, e.g. `env`.
    var name: String { get }

    /// The value of the secret called `name`, found through `reference` (what the
    /// pipeline file wrote after the provider's key: a variable, a path, a Vault path).
    func value(of name: String, reference: String) async throws(SecretError) -> String
}
