/// Where HEAD points: the commit a run records and the branch it was on.
///
/// `branch` is nil when HEAD is detached (a CI checkout of a pull request, or a
/// worktree made for re-running an old commit), so callers must not assume one.
public struct HeadState: Sendable, Hashable {
    /// The full 40-character commit id.
    public var commit: String
    /// The first 7 characters of ``commit``, as `git log --oneline` shows it.
    public var shortCommit: String
    /// The branch name without `refs/heads/`, or nil when HEAD is detached.
    public var branch: String?
    /// The id of the commit's root tree: the whole tree's fingerprint.
    public var treeID: String
    /// The commit's committer time, in seconds since 1970: the time that reproducible
    /// outputs (package manifests, image layers) carry instead of the clock's.
    public var commitTime: Int64

    /// Creates a head state; ``shortCommit`` is derived from `commit`.
    public init(commit: String, branch: String?, treeID: String, commitTime: Int64 = 0) {
        self.commit = commit
        self.shortCommit = String(commit.prefix(7))
        self.branch = branch
        self.treeID = treeID
        self.commitTime = commitTime
    }
}
