/// A secret that could not be resolved: which one, from where, why, and how to fix it.
///
/// It names the secret and its source (`{ env: API_TOKEN }`), which the pipeline file
/// already shows, and never the value: a provider that fails half way through reading a
/// value keeps what it read out of `message` and `cause`.
public struct SecretError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers that treat them differently.
    public enum Code: Sendable, Equatable {
        /// The reference names nothing: an unset variable, a missing file, an absent key.
        case notFound
        /// The reference names something that cannot be read: no permission, a folder,
        /// a store that refused or did not answer.
        case unreadable
        /// No provider of that name is registered.
        case unknownProvider
    }

    public var code: Code
    /// The secret's name under the pipeline's `secrets:`.
    public var secret: String
    /// The provider's name, the key of `{ PROVIDER: REFERENCE }`.
    public var provider: String
    /// What the provider was asked to look up.
    public var reference: String
    /// What went wrong and how to fix it, without the secret's name (`description` adds
    /// it) and never with its value.
    public var message: String
    /// The error this one wraps; it must not hold the value either.
    public var cause: (any Error & Sendable)?

    /// Creates an error; `message` says what went wrong and how to fix it.
    public init(_ code: Code, secret: String, provider: String, reference: String, message: String,
                cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.secret = secret
        self.provider = provider
        self.reference = reference
        self.message = message
        self.cause = cause
    }

    /// `secret NAME: MESSAGE`.
    public var description: String { "secret \(secret): \(message)" }
}
