/// What went wrong talking to an S3-API server, or with what it sent.
///
/// Each error names the request (`PUT s3://bucket/prefix/ac/sha256/ab…`), the HTTP
/// status and S3's error code when there was an answer, how many attempts were made,
/// and what to do. Credentials appear by key id at most, never the secret.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that decide what to do next.
    public enum Code: Sendable, Equatable {
        /// No answer: connection refused, reset, timed out (after retries).
        case unreachable
        /// 401/403: the credentials are missing, wrong, or lack the permission.
        case denied
        /// 404 on a bucket (`NoSuchBucket`): the remote itself is missing.
        case noSuchBucket
        /// An answer mlpipe cannot use: another status, or a malformed body.
        case unexpected
        /// Downloaded bytes whose digest is not the one asked for.
        case corrupt
        /// A local file could not be read or written.
        case local
    }

    /// The kind of failure.
    public var code: Code
    /// The sentence shown to the user, with what to do.
    public var message: String
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// S3's `<Code>` (`AccessDenied`, `NoSuchBucket`, `SignatureDoesNotMatch`…), when sent.
    public var s3Code: String?
    /// The error this one wraps (a connection error, an errno), if any.
    public var cause: (any Error & Sendable)?

    /// An error with its parts.
    public init(_ code: Code, _ message: String, status: Int? = nil, s3Code: String? = nil,
                cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.s3Code = s3Code
        self.cause = cause
    }

    /// Whether the remote as a whole is unusable (down, denied, missing), rather than
    /// one object being wrong: the engine then stops asking it for the rest of the run.
    public var remoteUnusable: Bool {
        code == .unreachable || code == .denied || code == .noSuchBucket
    }

    public var description: String { message }
}
