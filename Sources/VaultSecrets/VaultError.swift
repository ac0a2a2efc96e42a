/// Why a value could not be read from OpenBao / HashiCorp Vault, and how to fix it.
///
/// `message` names the server's address and the path, never a token, a secret id, a
/// service-account JWT or a value: text that comes back from the server is passed through
/// the client's redaction of its own credentials before it is quoted. For a missing key,
/// `keys` holds the key names the secret does have (names only).
public struct VaultError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers that treat them differently.
    public enum Code: Sendable, Equatable {
        /// No address, no credentials, or an unreadable credential file.
        case configuration
        /// No answer from the server (refused, reset, timed out), after the retries.
        case unreachable
        /// The server refused a login (AppRole, Kubernetes).
        case loginFailed
        /// HTTP 403 on a read: the token is invalid, or its policies do not allow it.
        case denied
        /// No secret at the path, no such version, or no mount there.
        case notFound
        /// The secret exists but has no such key; `keys` lists those it has.
        case noSuchKey
        /// HTTP 503 "Vault is sealed".
        case sealed
        /// The mount is not a KV version 2 secrets engine (KV version 1, or another type).
        case notKV2
        /// Any other answer: its status and the server's errors are in `message`.
        case unexpected
    }

    public var code: Code
    /// What went wrong, where (address and path) and what to do.
    public var message: String
    /// The HTTP status of the answer, when one came.
    public var status: Int?
    /// For `noSuchKey`: the names of the keys the secret has, sorted.
    public var keys: [String]

    /// An error; `message` must already be free of credentials and values.
    public init(_ code: Code, _ message: String, status: Int? = nil, keys: [String] = []) {
        self.code = code
        self.message = message
        self.status = status
        self.keys = keys
    }

    public var description: String { message }
}
