#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibGit2
import Foundation

extension GitRepository {
    /// Checks out `commit` into a new linked worktree at `path` with a detached
    /// HEAD, like `git worktree add --detach PATH COMMIT`, so an old commit can be
    /// re-run without touching the main working tree.
    ///
    /// `path` must not exist yet; its parent folders are created. The worktree is
    /// registered under `.git/worktrees/` with a name taken from the folder's name,
    /// so `git worktree list` shows it. libgit2 can only add a worktree on a branch,
    /// so a temporary branch is made, HEAD is detached, and the branch is deleted.
    public func addWorktree(at path: String, commit: String) throws(GitError) {
        let target = absolute(path)
        if FileManager.default.fileExists(atPath: target) {
            throw GitError(.io, "cannot create a worktree at '\(target)': it already exists; remove it or choose another folder",
                           path: target)
        }
        let parent = (target as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw GitError(.io, "cannot create the folder '\(parent)' for a worktree; check its permissions", path: parent)
        }
        try locked { () throws(GitError) in
            let commitHandle = try lookupCommit(commit)
            defer { git_commit_free(commitHandle) }
            let commitID = git_commit_id(commitHandle).pointee
            let name = try freeWorktreeName(for: target)
            let branchName = "mlpipe-worktree-\(name)"

            var branch: OpaquePointer?
            try LibGit2.check(git_branch_create(&branch, handle, branchName, commitHandle, 0),
                              "creating temporary branch '\(branchName)'", path: target)
            var branchDeleted = false
            defer {
                if !branchDeleted { git_branch_delete(branch) }
                git_reference_free(branch)
            }

            var options = git_worktree_add_options()
            git_worktree_add_options_init(&options, UInt32(GIT_WORKTREE_ADD_OPTIONS_VERSION))
            options.ref = branch
            var worktree: OpaquePointer?
            try LibGit2.check(git_worktree_add(&worktree, handle, name, target, &options),
                              "adding a worktree", path: target,
                              hint: "check that the folder is writable and not already registered (`git worktree list`)")
            defer { git_worktree_free(worktree) }

            var linked: OpaquePointer?
            var result = git_repository_open_from_worktree(&linked, worktree)
            if result == 0 {
                var id = commitID
                result = git_repository_set_head_detached(linked, &id)
                git_repository_free(linked)
            }
            if result < 0 {
                let error = GitError.fromLibGit2(result, "detaching HEAD in the new worktree", path: target)
                pruneQuietly(worktree)
                throw error
            }
            try LibGit2.check(git_branch_delete(branch), "deleting temporary branch '\(branchName)'", path: target)
            branchDeleted = true
        }
    }

    /// Removes the linked worktree at `path`: its folder and its registration,
    /// like `git worktree remove --force`. Local changes in it are lost.
    ///
    /// Throws ``GitError/Code/unknownRevision`` when no worktree of this
    /// repository is at `path`.
    public func removeWorktree(at path: String) throws(GitError) {
        let target = canonical(absolute(path))
        try locked { () throws(GitError) in
            var names = git_strarray()
            try LibGit2.check(git_worktree_list(&names, handle), "listing worktrees", path: gitDirectory)
            defer { git_strarray_dispose(&names) }
            for position in 0..<names.count {
                guard let name = names.strings[position] else { continue }
                var worktree: OpaquePointer?
                guard git_worktree_lookup(&worktree, handle, name) == 0, let worktree else { continue }
                defer { git_worktree_free(worktree) }
                guard let location = git_worktree_path(worktree),
                      canonical(GitRepository.trimmingSlash(String(cString: location))) == target else { continue }
                var options = git_worktree_prune_options()
                git_worktree_prune_options_init(&options, UInt32(GIT_WORKTREE_PRUNE_OPTIONS_VERSION))
                options.flags = GIT_WORKTREE_PRUNE_VALID.rawValue | GIT_WORKTREE_PRUNE_WORKING_TREE.rawValue
                try LibGit2.check(git_worktree_prune(worktree, &options), "removing the worktree", path: target,
                                  hint: "remove the folder by hand and run `git worktree prune`")
                return
            }
            throw GitError(.unknownRevision,
                           "no worktree of '\(workdir)' is at '\(target)'; `git worktree list` shows the registered ones",
                           path: target)
        }
    }

    /// A worktree name, from the folder's name, that `.git/worktrees/` lacks.
    private func freeWorktreeName(for target: String) throws(GitError) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        var base = String((target as NSString).lastPathComponent.map { allowed.contains($0) ? $0 : "-" })
        if base.isEmpty { base = "worktree" }
        var name = base
        var suffix = 1
        while true {
            var existing: OpaquePointer?
            if git_worktree_lookup(&existing, handle, name) < 0 { return name }
            git_worktree_free(existing)
            suffix += 1
            name = "\(base)\(suffix)"
        }
    }

    private func pruneQuietly(_ worktree: OpaquePointer?) {
        var options = git_worktree_prune_options()
        git_worktree_prune_options_init(&options, UInt32(GIT_WORKTREE_PRUNE_OPTIONS_VERSION))
        options.flags = GIT_WORKTREE_PRUNE_VALID.rawValue | GIT_WORKTREE_PRUNE_WORKING_TREE.rawValue
        _ = git_worktree_prune(worktree, &options)
    }

    private func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return GitRepository.trimmingSlash((full as NSString).standardizingPath)
    }

    private func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
