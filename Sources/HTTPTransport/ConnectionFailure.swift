import AsyncHTTPClient
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a request got no answer, in words, and whether sending it again may help: a reset,
/// a closed connection or a timeout may pass; a refused connection or a TLS failure will
/// not, and is reported at once rather than after every retry.
///
/// One definition for every HTTP client of mlpipe (the registry, the S3 remote, MLflow,
/// Vault), so that they retry the same failures and name them the same way.
public struct ConnectionFailure: Error, Sendable {
    /// Worth trying again.
    public let retryable: Bool
    /// "connection refused", "connection reset", "timed out connecting", ...
    public let reason: String
    /// The client's own error.
    public let underlying: any Error & Sendable

    /// Classifies `error`; `peer` names the other side in a reason ("the registry").
    public init(_ error: any Error & Sendable, peer: String = "the server") {
        underlying = error
        (retryable, reason) = Self.classify(error, peer: peer)
    }

    /// Whether `error` is worth a retry, and why the request got no answer.
    public static func classify(_ error: any Error, peer: String = "the server") -> (retryable: Bool, reason: String) {
        if let error = error as? HTTPClientError {
            switch error {
            case .remoteConnectionClosed: return (true, "connection closed by \(peer)")
            case .readTimeout: return (true, "timed out waiting for an answer")
            case .writeTimeout: return (true, "timed out sending")
            case .connectTimeout: return (true, "timed out connecting")
            case .deadlineExceeded: return (true, "request deadline exceeded")
            case .getConnectionFromPoolTimeout: return (true, "timed out waiting for a connection")
            default: return (false, "\(error)")
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return (false, "connection refused")
            case ECONNRESET: return (true, "connection reset")
            case EPIPE: return (true, "connection broken")
            case ETIMEDOUT: return (true, "timed out")
            default: return (false, "\(error)")
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return (true, "timed out connecting")
            case .eof, .ioOnClosedChannel, .outputClosed, .alreadyClosed: return (true, "connection closed")
            default: return (false, "\(error)")
            }
        }
        // NIO's connection errors that are not public types (NIOConnectionError and the
        // like) are recognised by their text.
        let text = String(describing: error)
        if text.contains("Connection refused") || text.contains("connectionRefused") {
            return (false, "connection refused")
        }
        if text.contains("reset") { return (true, "connection reset") }
        return (false, text)
    }

    /// 5xx and 429: the server may answer differently next time.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || (500...599).contains(status)
    }
}
