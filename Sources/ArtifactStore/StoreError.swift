#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the artifact store, with what went wrong and how to fix it.
///
/// Every message names the file or object involved and the next step, because
/// the store sits under `workspace/objects` where people rarely look. The
/// operating system's `errno` is kept as the cause when a system call failed.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that branch on it.
    public enum Code: Sendable, Hashable {
        /// The object, file or folder does not exist.
        case notFound
        /// A system call failed (permissions, full disk…); see ``StoreError/errno``.
        case io
        /// Something that cannot be stored: a socket, a device, a link to a folder,
        /// or a path that is not valid UTF-8.
        case unsupportedFile
        /// An object's content does not match its digest, or a tree manifest is damaged.
        case corrupt
        /// Garbage collection was refused because a run holds a lease on the store.
        case locked
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and how to fix it, in one or two sentences.
    public var message: String
    /// The file, folder or object involved, when there is one.
    public var path: String?
    /// The operating system's error number when a system call failed.
    public var errno: Int32?

    /// Creates an error; `message` should say what went wrong and how to fix it.
    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    /// The message followed by the system's explanation of ``errno``, if any.
    public var description: String {
        guard let errno else { return message }
        return message + " (" + String(cString: strerror(errno)) + ")"
    }

    /// A failed system call `operation` on `path`, with the current `errno`.
    static func system(_ operation: String, _ path: String, errno given: Int32? = nil) -> StoreError {
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
        return StoreError(code, "cannot \(operation) '\(path)'; \(hint)", path: path, errno: number)
    }
}
