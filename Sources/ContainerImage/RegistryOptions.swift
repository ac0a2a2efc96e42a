/// How a ``RegistryClient`` talks to its registry: transport, retries, upload sizes.
///
/// The defaults suit a registry on the network; tests shrink the back-off and the chunk
/// size so that faults and chunked uploads show up with small blobs.
public struct RegistryOptions: Sendable {
    /// Use http:// even for a registry that is not on the loopback interface (127.0.0.1,
    /// localhost and ::1 always use http://, every other host https://).
    public var insecure: Bool
    /// Tries per idempotent request or upload session, counting the first (at least 1).
    /// Retried: 5xx, 429, connection resets and timeouts.
    public var maxAttempts: Int
    /// Wait before the first retry; doubled on each further one, up to ``maxBackoff``.
    /// A `Retry-After` from the registry is honoured up to ``maxBackoff``.
    public var initialBackoff: Duration
    /// Longest wait between two tries.
    public var maxBackoff: Duration
    /// Blobs up to this many bytes go up in one PUT; larger ones in PATCH chunks.
    public var monolithicLimit: Int64
    /// Bytes per PATCH of a chunked upload.
    public var chunkSize: Int64
    /// Bytes read from a blob file at a time: the memory one upload holds, whatever the
    /// blob's size.
    public var readBufferSize: Int
    /// Blobs uploaded at the same time.
    public var parallelUploads: Int
    /// Seconds allowed to open a connection.
    public var connectTimeout: Int64
    /// Seconds a request may wait for the registry to send anything before it counts as a
    /// timeout (and is retried).
    public var readTimeout: Int64

    /// The defaults: 5 tries from 200 ms back-off up to 10 s, single PUT up to 32 MiB,
    /// 64 MiB chunks above, 1 MiB reads, 3 blobs at a time.
    public init(insecure: Bool = false, maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(200),
                maxBackoff: Duration = .seconds(10), monolithicLimit: Int64 = 32 << 20,
                chunkSize: Int64 = 64 << 20, readBufferSize: Int = 1 << 20, parallelUploads: Int = 3,
                connectTimeout: Int64 = 10, readTimeout: Int64 = 120) {
        self.insecure = insecure
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.monolithicLimit = monolithicLimit
        self.chunkSize = max(1, chunkSize)
        self.readBufferSize = max(4096, readBufferSize)
        self.parallelUploads = max(1, parallelUploads)
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// The wait before try number `attempt + 1` (attempt counts from 1), with up to a
    /// quarter of jitter so that parallel uploads do not retry in step.
    func backoff(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(retryAfter, maxBackoff) }
        var delay = initialBackoff
        for _ in 1..<max(1, attempt) where delay < maxBackoff {
            delay *= 2
        }
        delay = min(delay, maxBackoff)
        let jitter = Double.random(in: 0.75...1.0)
        return delay * jitter
    }
}
