#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure while building, reading or writing an image, with what went wrong, where,
/// and how to fix it.
///
/// Every message names the file, folder or blob involved, because the caller (a
/// `containerize` stage) shows it to someone who did not write the layout by hand. The
/// operating system's `errno` is kept when a system call failed; a wrapped error (a
/// process that failed, a JSON decoding error) is kept as `cause`.
public struct ImageError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that branch on it.
    public enum Code: Sendable, Hashable {
        /// A file or folder the build needs does not exist.
        case notFound
        /// A folder that should be an OCI image layout is not one, or is damaged.
        case notALayout
        /// A blob's content does not match its digest or size.
        case corrupt
        /// An input that cannot go into an image: a socket, a path outside the layer, …
        case unsupported
        /// A system call failed (permissions, full disk…); see ``ImageError/errno``.
        case io
        /// A program the build runs (pip) failed.
        case tool
        /// The task was cancelled; nothing half-written was left.
        case cancelled
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and how to fix it, in one or two sentences.
    public var message: String
    /// The file or folder involved, when there is one.
    public var path: String?
    /// The operating system's error number when a system call failed.
    public var errno: Int32?
    /// The error this one wraps, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error; `message` should say what went wrong and how to fix it.
    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil,
                cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
        self.cause = cause
    }

    /// The message followed by the system's explanation of ``errno``, if any.
    public var description: String {
        guard let errno else { return message }
        return message + " (" + String(cString: strerror(errno)) + ")"
    }

    /// A failed system call `operation` on `path`, with the current `errno`.
    static func system(_ operation: String, _ path: String, errno given: Int32? = nil) -> ImageError {
        #if canImport(Glibc)
        let number = given ?? Glibc.errno
        #else
        let number = given ?? Darwin.errno
        #endif
        let code: Code = number == ENOENT ? .notFound : .io
        let hint: String
        switch number {
        case ENOENT: hint = "check that it exists"
        case EACCES, EPERM: hint = "check its permissions"
        case ENOSPC, EDQUOT: hint = "free disk space (`mlpipe cache gc`) and retry"
        default: hint = "check the file system and retry"
        }
        return ImageError(code, "cannot \(operation) '\(path)'; \(hint)", path: path, errno: number)
    }
}
