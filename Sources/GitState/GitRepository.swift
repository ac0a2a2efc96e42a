#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibGit2
import Foundation

/// A git repository with a working tree, read through libgit2.
///
/// mlpipe keys its cache by git: a stage's inputs are identified by their object
/// ids at the run's commit, plus the blob ids of whatever is dirty in the working
/// tree. This type answers those questions quickly: object ids come from the
/// object database (no file reads for a clean tree), and ``status(pathspecs:)``
/// only looks at the paths asked for.
///
/// One instance may be shared by many tasks. libgit2 objects are not safe to use
/// from two threads at once, so every libgit2 call on this repository runs while
/// `lock` is held.
public final class GitRepository: @unchecked Sendable {
    // Safe to send: every stored property is immutable except `indexSnapshot`,
    // which, like the libgit2 objects behind `handle`, is only touched while
    // `lock` is held (see `locked`). Work that fans out to other threads inside a
    // locked section (the lstat pass of `status`) reads index entries that nothing
    // can change until the lock is released, and makes no libgit2 call.
    let handle: OpaquePointer
    private let lock = NSLock()
    /// The index as last read, reused while the file is unchanged on disk.
    var indexSnapshot: IndexSnapshot?

    /// The absolute path of the working tree's root, without a trailing slash.
    public let workdir: String
    /// The absolute path of the repository's git folder (`.git`, or
    /// `.git/worktrees/NAME` in a linked worktree), without a trailing slash.
    public let gitDirectory: String
    /// `core.filemode`: whether the executable bit counts as a change.
    let trustsFileMode: Bool

    private init(handle: OpaquePointer, workdir: String) {
        self.handle = handle
        self.workdir = workdir
        gitDirectory = GitRepository.trimmingSlash(String(cString: git_repository_path(handle)))
        var fileMode: Int32 = 1
        var config: OpaquePointer?
        if git_repository_config_snapshot(&config, handle) == 0, let config {
            if git_config_get_bool(&fileMode, config, "core.filemode") < 0 { fileMode = 1 }
            git_config_free(config)
        }
        trustsFileMode = fileMode != 0
    }

    deinit {
        indexSnapshot = nil
        git_repository_free(handle)
    }

    /// The root of the working tree that contains `path`, found without libgit2: the
    /// nearest folder, from `path` up, that holds a `.git` folder or a `.git` file (a
    /// linked worktree or a submodule).
    ///
    /// Commands that only read mlpipe's own history (`runs`, `logs`) need the root to
    /// find the workspace, not git's objects; this spares them libgit2's start-up, which
    /// parses the system's TLS certificates and costs more than the whole query.
    /// Like ``discover(from:)``, it throws ``GitError/Code/notARepository`` outside a
    /// repository. It does not honour `GIT_DIR` or `GIT_CEILING_DIRECTORIES`.
    public static func workingTreeRoot(containing path: String) throws(GitError) -> String {
        var folder = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        folder = trimmingSlash(URL(fileURLWithPath: folder).standardizedFileURL.path)
        while true {
            var info = stat()
            if lstat((folder.isEmpty ? "" : folder) + "/.git", &info) == 0,
               (info.st_mode & S_IFMT) == S_IFDIR || (info.st_mode & S_IFMT) == S_IFREG {
                return folder.isEmpty ? "/" : folder
            }
            guard let slash = folder.lastIndex(of: "/"), !folder.isEmpty else {
                throw GitError(.notARepository,
                               "'\(path)' is not inside a git repository; run `git init` or run mlpipe inside a git repository",
                               path: path)
            }
            folder = String(folder[..<slash])
        }
    }

    /// Opens the repository that contains `path`, walking up its parent folders as
    /// `git` does (without crossing filesystems).
    ///
    /// Throws ``GitError/Code/notARepository`` when no repository contains `path`,
    /// or when the repository is bare and so has no working tree to run in.
    public static func discover(from path: String) throws(GitError) -> GitRepository {
        try LibGit2.ensureInitialized()
        var found = git_buf()
        defer { git_buf_dispose(&found) }
        let result = git_repository_discover(&found, path, 0, nil)
        guard result == 0, let foundPath = found.ptr else {
            if result == GIT_ENOTFOUND.rawValue || result == 0 {
                throw GitError(.notARepository,
                               "'\(path)' is not inside a git repository; run `git init` or run mlpipe inside a git repository",
                               path: path)
            }
            throw GitError.fromLibGit2(result, "finding the git repository", code: .notARepository, path: path,
                                       hint: "run `git init` or run mlpipe inside a git repository")
        }
        var handle: OpaquePointer?
        try LibGit2.check(git_repository_open(&handle, foundPath), "opening the git repository",
                          path: String(cString: foundPath))
        guard let handle else {
            throw GitError(.libgit2, "libgit2 opened no repository at '\(path)'", path: path)
        }
        guard let workdir = git_repository_workdir(handle) else {
            git_repository_free(handle)
            throw GitError(.notARepository,
                           "'\(String(cString: foundPath))' is a bare repository with no working tree; run mlpipe in a clone that has one",
                           path: path)
        }
        return GitRepository(handle: handle, workdir: trimmingSlash(String(cString: workdir)))
    }

    /// Runs `body` with the libgit2 lock held.
    func locked<Result>(_ body: () throws(GitError) -> Result) throws(GitError) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The commit HEAD points at, and its branch unless HEAD is detached.
    ///
    /// Throws ``GitError/Code/noCommits`` in a repository without commits.
    public func head() throws(GitError) -> HeadState {
        try locked { () throws(GitError) -> HeadState in
            var reference: OpaquePointer?
            let result = git_repository_head(&reference, handle)
            if result == GIT_EUNBORNBRANCH.rawValue || result == GIT_ENOTFOUND.rawValue {
                throw GitError(.noCommits,
                               "the repository at '\(workdir)' has no commits yet; commit your files (`git add` and `git commit`) and retry",
                               path: workdir)
            }
            try LibGit2.check(result, "reading HEAD", path: workdir)
            defer { git_reference_free(reference) }
            let commit = try peelToCommit(reference)
            defer { git_commit_free(commit) }
            var branch: String?
            if git_repository_head_detached(handle) != 1, git_reference_is_branch(reference) == 1,
               let name = git_reference_shorthand(reference) {
                branch = String(cString: name)
            }
            return HeadState(commit: git_commit_id(commit).pointee.hex, branch: branch,
                             treeID: git_commit_tree_id(commit).pointee.hex, commitTime: Int64(git_commit_time(commit)))
        }
    }

    /// The full commit id that `rev` names: a commit id or unique prefix, a
    /// branch, a tag (peeled to its commit), or any `git rev-parse` expression.
    ///
    /// Throws ``GitError/Code/unknownRevision`` when `rev` names nothing, or
    /// something that is not a commit.
    public func resolveCommit(_ rev: String) throws(GitError) -> String {
        try locked { () throws(GitError) -> String in
            let commit = try lookupCommit(rev)
            defer { git_commit_free(commit) }
            return git_commit_id(commit).pointee.hex
        }
    }

    /// The committer time of the commit `rev` names, in seconds since 1970.
    public func commitTime(of rev: String) throws(GitError) -> Int64 {
        try locked { () throws(GitError) -> Int64 in
            let commit = try lookupCommit(rev)
            defer { git_commit_free(commit) }
            return Int64(git_commit_time(commit))
        }
    }

    /// Looks up the commit `rev` names; the caller frees it. Lock held.
    func lookupCommit(_ rev: String) throws(GitError) -> OpaquePointer {
        var object: OpaquePointer?
        let result = git_revparse_single(&object, handle, rev)
        if result == GIT_ENOTFOUND.rawValue || result == GIT_EAMBIGUOUS.rawValue
            || result == GIT_EINVALIDSPEC.rawValue || result == GIT_EUNBORNBRANCH.rawValue {
            if rev == "HEAD", git_repository_head_unborn(handle) == 1 {
                throw GitError(.noCommits,
                               "the repository at '\(workdir)' has no commits yet; commit your files (`git add` and `git commit`) and retry",
                               path: workdir)
            }
            let why = result == GIT_EAMBIGUOUS.rawValue ? "is ambiguous" : "names no commit"
            throw GitError(.unknownRevision,
                           "revision '\(rev)' \(why) in '\(workdir)'; use a full commit id, a branch or a tag (see `git log`)",
                           path: rev, cause: GitError.fromLibGit2(result, "").cause)
        }
        try LibGit2.check(result, "resolving revision '\(rev)'", code: .unknownRevision, path: rev)
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        let peeled = git_object_peel(&commit, object, GIT_OBJECT_COMMIT)
        guard peeled == 0, let commit else {
            throw GitError(.unknownRevision,
                           "revision '\(rev)' is not a commit; use a commit id, a branch or a tag that points at a commit",
                           path: rev, cause: GitError.fromLibGit2(peeled, "").cause)
        }
        return commit
    }

    private func peelToCommit(_ reference: OpaquePointer?) throws(GitError) -> OpaquePointer {
        var object: OpaquePointer?
        try LibGit2.check(git_reference_peel(&object, reference, GIT_OBJECT_COMMIT), "reading the commit at HEAD",
                          path: workdir)
        guard let object else { throw GitError(.libgit2, "HEAD points at no commit", path: workdir) }
        return object
    }

    static func trimmingSlash(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
