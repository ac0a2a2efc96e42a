/// Why a ``RunStore`` call failed, and how to fix it.
///
/// Its ``description`` is one line: what could not be done, why, and what to do,
/// e.g. `cannot open workspace/mlpipe.db: unable to open database file (SQLite
/// error 14); check that the folder exists and is writable`.
///
/// Values written to the database may hold secrets (params, errors, logs
/// paths), so an error never carries them: neither the description nor the
/// ``cause`` holds the SQL statement's bound arguments (the cause is a copy of
/// GRDB's error made without them), and a bad row is described by its table,
/// column and key, not its content.
public struct RunStoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure, for callers that act on it (mlpipe exits with status
    /// 3, "environment", for all but ``notFound`` and ``invalidRecord``).
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The file or its folder cannot be created or opened.
        case cannotOpen
        /// Another process held the database longer than the busy timeout.
        case busy
        /// The file or folder is read-only.
        case readOnly
        /// The file is not an SQLite database, or is damaged.
        case corrupt
        /// The disk is full.
        case diskFull
        /// An I/O error from the operating system.
        case io
        /// The run asked for does not exist.
        case notFound
        /// A record is not acceptable (it names another run or stage), or a row
        /// cannot be read (unknown status, missing value: a newer mlpipe, or a
        /// hand edit, wrote it).
        case invalidRecord
        /// Anything else SQLite reports; a bug in mlpipe rather than in the setup.
        case other
    }

    /// The kind of failure.
    public var code: Code
    /// What was being done, as a verb phrase: "open workspace/mlpipe.db",
    /// "record stage 'train' of run #42".
    public var operation: String
    /// The database file, when the failure concerns it.
    public var path: String?
    /// What went wrong, e.g. SQLite's message and code.
    public var reason: String
    /// What the user can do about it.
    public var remedy: String
    /// The underlying error (a GRDB `DatabaseError` without its arguments, or a
    /// file-system error), if any.
    public var cause: (any Error)?

    /// An error; prefer the cases' wording: `operation` is a verb phrase that
    /// follows "cannot".
    public init(code: Code, operation: String, path: String?, reason: String, remedy: String, cause: (any Error)? = nil) {
        self.code = code
        self.operation = operation
        self.path = path
        self.reason = reason
        self.remedy = remedy
        self.cause = cause
    }

    /// `cannot <operation> (in <path>): <reason>; <remedy>`.
    public var description: String {
        var text = "cannot \(operation)"
        if let path, !operation.contains(path) {
            text += " in \(path)"
        }
        text += ": \(reason)"
        if !remedy.isEmpty {
            text += "; \(remedy)"
        }
        return text
    }

    /// The same as ``description``, so that `String(reflecting:)` and string
    /// interpolation in a debugger show no more than the user would see.
    public var debugDescription: String { description }
}
