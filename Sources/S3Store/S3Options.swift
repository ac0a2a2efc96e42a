/// Sizes, limits and timings of an ``S3Client``; the defaults suit a remote cache.
public struct S3Options: Sendable {
    /// Files larger than this are sent as a multipart upload.
    public var multipartThreshold: Int64 = 64 << 20
    /// The size of each part but the last (S3 requires at least 5 MiB).
    public var partSize: Int64 = 16 << 20
    /// Parts sent at once; memory is about this many read buffers, not the file's size.
    public var partConcurrency = 4
    /// Bytes read from disk per buffer of a streamed body.
    public var readBufferSize = 1 << 20
    /// Attempts per request, for 5xx, 429 and connection resets and timeouts.
    public var maxAttempts = 4
    /// The first back-off; each retry waits twice as long as the one before.
    public var initialBackoff: Duration = .milliseconds(200)
    /// Seconds to wait for a connection.
    public var connectTimeout: Int64 = 5
    /// Seconds to wait for the next bytes of an answer.
    public var readTimeout: Int64 = 60

    /// The defaults.
    public init() {}

    /// The wait before attempt `attempt + 1`.
    func backoff(afterAttempt attempt: Int) -> Duration {
        initialBackoff * (1 << min(attempt - 1, 6))
    }
}
