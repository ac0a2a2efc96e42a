/// How a path in the working tree differs from the commit at HEAD.
///
/// The comparison is between what a process reading the working tree would see
/// and the commit, whether or not the change is staged: a file staged and then
/// deleted is `deleted`, a new file staged is `added`, a new file not staged is
/// `untracked`.
public enum PathChange: String, Sendable, Hashable, Codable {
    /// The path is in the commit, and its content or mode differs.
    case modified
    /// The path is not in the commit but is staged in the index.
    case added
    /// The path is in the commit but not in the working tree.
    case deleted
    /// The path is neither in the commit nor in the index, and not ignored.
    case untracked
}

/// The working tree's changes against HEAD, within the pathspecs asked for.
///
/// Ignored files never appear. Paths are files (never folders), relative to the
/// repository root, with `/` separators; an untracked folder is listed file by
/// file, as `git status --untracked-files=all` does. Nested repositories and
/// submodule contents are left out.
public struct WorkingTreeStatus: Sendable, Hashable {
    /// Each changed path and how it changed.
    public var changes: [String: PathChange]

    /// Creates a status from its changes.
    public init(changes: [String: PathChange]) {
        self.changes = changes
    }

    /// Whether nothing changed within the pathspecs.
    public var isClean: Bool { changes.isEmpty }
}
