#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to build or read a model package, with what went wrong and how to fix it.
///
/// Every message names the file involved (the model's file as the caller named it, or a
/// path inside the package) and the next step. The operating system's `errno` is kept
/// when a system call failed.
public struct PackageError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that branch on it.
    public enum Code: Sendable, Hashable {
        /// The model, the report or the package does not exist.
        case notFound
        /// A system call failed (permissions, a full disk…); see ``PackageError/errno``.
        case io
        /// A value the caller gave cannot be used: an unpinned requirement, a bad name,
        /// a signature datatype, a format the bytes are not.
        case invalidInput
        /// The scan (the builder's own, or the validate report's) did not say `safe`.
        case unsafeModel
        /// The validate report describes other bytes than the model being packaged.
        case reportMismatch
        /// Something that cannot be packaged: a link out of the model's folder, a link to
        /// a folder, a socket or device, a format no serving flavor takes.
        case unsupported
        /// A package on disk does not match its manifest: a changed, missing or extra file,
        /// or a manifest that cannot be read.
        case corrupt
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and how to fix it, in one or two sentences.
    public var message: String
    /// The file or folder involved, when there is one.
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
    static func system(_ operation: String, _ path: String) -> PackageError {
        #if canImport(Glibc)
        let number = Glibc.errno
        #else
        let number = Darwin.errno
        #endif
        let hint: String
        switch number {
        case ENOENT: hint = "check that it exists"
        case EACCES, EPERM: hint = "check its permissions"
        case ENOSPC, EDQUOT: hint = "free disk space and retry"
        default: hint = "check the file system and retry"
        }
        return PackageError(number == ENOENT ? .notFound : .io, "cannot \(operation) '\(path)'; \(hint)",
                            path: path, errno: number)
    }
}
