/// Where a secret's value comes from at run time: `{ PROVIDER: REFERENCE }` under the
/// pipeline's `secrets:`, e.g. `{ env: REGISTRY_PASSWORD }`, `{ file: .secrets/token }` or
/// `{ vault: "secret/data/ci#token" }`.
///
/// The pipeline file names the source, never the value, so a secret never enters the
/// run record or a cache key. The loader knows no provider by itself: the engine hands
/// it the names of the providers it registers, and an unknown one is reported at the key.
/// What `reference` means is the provider's business (a variable name, a path, a Vault
/// path and key); the loader checks that it is a non-empty string, and that a `vault`
/// reference parses as a `VaultReference`.
public struct SecretSource: Sendable, Hashable {
    /// The provider's name, the one key of the mapping (`env`, `file`, …).
    public var provider: String
    /// What the provider looks up; never the value itself.
    public var reference: String
    /// Where the secret's name is written, for errors found when it is resolved.
    public var location: SourceLocation

    /// Creates a source; used by the loader and by tests.
    public init(provider: String, reference: String, location: SourceLocation) {
        self.provider = provider
        self.reference = reference
        self.location = location
    }

    /// `{ provider: reference }`, as written in a pipeline file, for messages.
    public var written: String { "{ \(provider): \(reference) }" }
}
