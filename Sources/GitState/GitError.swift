import CLibGit2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure reading the repository's state, with what went wrong and how to fix it.
///
/// mlpipe reports environment problems with exit status 3, so every message is
/// written for the person at the terminal: it names the path or revision involved
/// and says what to do next. When libgit2 caused the failure, its error code,
/// class and message are kept in ``cause`` so that nothing it said is lost.
public struct GitError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that branch on it.
    public enum Code: Sendable {
        /// The path is not inside a git working tree (or the repository is bare).
        case notARepository
        /// HEAD points at a branch that has no commits yet.
        case noCommits
        /// A revision, commit id or worktree could not be found.
        case unknownRevision
        /// libgit2 failed for another reason; ``GitError/cause`` says why.
        case libgit2
        /// A file or folder of the working tree could not be read or written.
        case io
    }

    /// What libgit2 reported, kept as the cause of a wrapped failure.
    public struct LibGit2Cause: Sendable, CustomStringConvertible {
        /// libgit2's return code (`git_error_code`, e.g. -3 for not found).
        public var code: Int32
        /// libgit2's error class (`git_error_t`, e.g. 7 for references).
        public var errorClass: Int32
        /// libgit2's own message, which may be empty.
        public var message: String

        public var description: String {
            "libgit2 error \(code) (class \(errorClass))" + (message.isEmpty ? "" : ": \(message)")
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and how to fix it, in one or two sentences.
    public var message: String
    /// The file, folder or revision involved, when there is one.
    public var path: String?
    /// libgit2's report when libgit2 caused the failure.
    public var cause: LibGit2Cause?
    /// The operating system's error number when a system call failed.
    public var errno: Int32?

    /// Creates an error; `message` should say what went wrong and how to fix it.
    public init(_ code: Code, _ message: String, path: String? = nil,
                cause: LibGit2Cause? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.cause = cause
        self.errno = errno
    }

    /// The message followed by the underlying cause, if any.
    public var description: String {
        var text = message
        if let cause { text += " (\(cause))" }
        if let errno { text += " (\(String(cString: strerror(errno))))" }
        return text
    }
}

extension GitError {
    /// Wraps the libgit2 failure `result` of `operation`, reading libgit2's
    /// thread-local last error, which is why this must run on the failing thread.
    static func fromLibGit2(_ result: Int32, _ operation: String, code: Code = .libgit2,
                            path: String? = nil, hint: String? = nil) -> GitError {
        var cause = LibGit2Cause(code: result, errorClass: 0, message: "")
        if let last = git_error_last() {
            cause.errorClass = last.pointee.klass
            if let text = last.pointee.message { cause.message = String(cString: text) }
        }
        var message = "\(operation) failed"
        if let path { message += " for '\(path)'" }
        message += "; " + (hint ?? "check that the repository is not corrupt (`git fsck`) and retry")
        return GitError(code, message, path: path, cause: cause)
    }

    /// A system-call failure on `path` while doing `operation`.
    static func io(_ operation: String, path: String, errno: Int32) -> GitError {
        GitError(.io, "cannot \(operation) '\(path)'; check that it exists and is readable",
                 path: path, errno: errno)
    }
}
