/// A provider whose values are given up front, by reference: what tests use in place of
/// `env`, `file` or a secret store, under any provider name.
///
///     var providers = SecretProviderRegistry()
///     providers.register(InMemorySecretProvider(name: "vault", values: ["secret/data/ci#token": "s3cr3t"]))
public struct InMemorySecretProvider: SecretProvider {
    public let name: String
    /// Reference -> value.
    public var values: [String: String]

    /// A provider called `name` that knows `values` (reference -> value).
    public init(name: String = "memory", values: [String: String]) {
        self.name = name
        self.values = values
    }

    public func value(of secret: String, reference: String) async throws(SecretError) -> String {
        guard let value = values[reference] else {
            throw SecretError(.notFound, secret: secret, provider: name, reference: reference,
                message: "the \(name) provider has no value for '\(reference)'; add it, or fix the reference in the "
                    + "pipeline's `secrets:`")
        }
        return value
    }
}
