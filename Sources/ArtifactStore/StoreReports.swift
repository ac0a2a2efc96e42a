import Canonical
import Foundation

/// One object as `mlpipe cache ls` lists it.
public struct ObjectInfo: Sendable, Hashable {
    /// The object's digest (its name in the store).
    public var digest: Digest
    /// Bytes on disk (a manifest's own size for a tree).
    public var size: Int64
    /// When the object was written.
    public var modified: Date

    /// Creates an entry.
    public init(digest: Digest, size: Int64, modified: Date) {
        self.digest = digest
        self.size = size
        self.modified = modified
    }
}

/// An object that failed verification.
public struct VerifyProblem: Sendable, Hashable {
    /// The object's name in the store.
    public var digest: Digest
    /// The digest its content actually has, when it could be read; nil when the
    /// problem is not the content (a tree that lists a missing file).
    public var actual: Digest?
    /// What is wrong and what to do about it.
    public var message: String

    /// Creates a problem report.
    public init(digest: Digest, actual: Digest?, message: String) {
        self.digest = digest
        self.actual = actual
        self.message = message
    }
}

/// What garbage collection did.
///
/// Bytes are what the file system got back, counted in allocated blocks as `du`
/// counts them. An object whose inode is also linked from a run folder (a large
/// output, hard-linked) frees nothing when the store lets it go: its bytes are
/// ``heldBytes`` until the run folders that hold it are removed (`mlpipe runs prune`).
public struct GCReport: Sendable, Hashable {
    /// Objects deleted.
    public var removed: Int
    /// Bytes freed on disk: objects whose last link went, emptied object folders,
    /// and stale temporary files.
    public var freedBytes: Int64
    /// Objects left in the store.
    public var kept: Int
    /// Temporary files older than an hour (left by crashed writers) deleted.
    public var removedTemporaries: Int
    /// Bytes of deleted objects still on disk because a run folder links them.
    public var heldBytes: Int64
    /// How many deleted objects a run folder still links.
    public var heldObjects: Int

    /// Creates a report.
    public init(removed: Int, freedBytes: Int64, kept: Int, removedTemporaries: Int = 0,
                heldBytes: Int64 = 0, heldObjects: Int = 0) {
        self.removed = removed
        self.freedBytes = freedBytes
        self.kept = kept
        self.removedTemporaries = removedTemporaries
        self.heldBytes = heldBytes
        self.heldObjects = heldObjects
    }
}
