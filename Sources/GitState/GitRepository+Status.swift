#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibGit2

extension GitRepository {
    /// The working tree's changes against HEAD, staged or not, within `pathspecs`
    /// (paths, folders or globs; nil for the whole repository).
    ///
    /// This is `git status --untracked-files=all` restricted to the pathspecs, built
    /// for speed on large data folders: index entries are compared with their files
    /// by `lstat` on all cores (content is hashed only when the stat data differs
    /// or cannot be trusted), tracked folders are read on all cores for names the
    /// index lacks, and libgit2's ignore rules are consulted only for those names.
    /// Staged changes come from comparing HEAD's tree with the index, skipping every
    /// folder whose cached tree id (kept in the index by `git commit`) matches.
    /// The index is only read, never rewritten. In a repository without commits
    /// every indexed file is `added`.
    public func status(pathspecs: [String]?) throws(GitError) -> WorkingTreeStatus {
        let scope = PathScope(pathspecs: pathspecs)
        return try locked { () throws(GitError) -> WorkingTreeStatus in
            try computeStatus(scope)
        }
    }

    /// The index, re-read only when the file changed on disk (lock held).
    func currentIndex() throws(GitError) -> IndexSnapshot {
        let path = gitDirectory + "/index"
        if let snapshot = indexSnapshot, snapshot.identity == IndexSnapshot.identity(of: path).identity {
            return snapshot
        }
        indexSnapshot = nil
        let snapshot = try IndexSnapshot.read(path: path, repository: handle)
        indexSnapshot = snapshot
        return snapshot
    }

    private func computeStatus(_ scope: PathScope) throws(GitError) -> WorkingTreeStatus {
        let index = try currentIndex()
        let root = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw GitError.io("open the working tree", path: workdir, errno: errno) }
        defer { close(root) }

        let roots = scope.roots
        let entries = index.entries
        let ranges = roots.map { root in rootRange(root, in: entries) }
        var changes: [String: PathChange] = [:]

        // 1. Index against working tree, and tracked folders read for new names:
        //    in parallel, without libgit2.
        var checked: [Int32] = []
        for range in ranges {
            for position in range where entries[position].stage == 0 && scope.covers(entries[position].bytes) {
                checked.append(Int32(position))
            }
        }
        let folders = trackedFolders(entries, ranges, scope: scope)
        var results = [UInt8](repeating: 0, count: checked.count)
        let folderItems = ParallelScan.itemCount(entries: checked.count, folders: folders.count).folderItems
        var candidates = [[UntrackedCandidate]](repeating: [], count: folderItems)
        entries.withUnsafeBufferPointer { all in
            checked.withUnsafeBufferPointer { checkedBuffer in
                folders.withUnsafeBufferPointer { folderBuffer in
                    results.withUnsafeMutableBufferPointer { resultBuffer in
                        candidates.withUnsafeMutableBufferPointer { candidateBuffer in
                            ParallelScan(checked: checkedBuffer, results: resultBuffer, all: all,
                                         folders: folderBuffer, candidates: candidateBuffer, root: root,
                                         indexTime: index.fileTime, trustsFileMode: trustsFileMode,
                                         scope: scope).run()
                        }
                    }
                }
            }
        }
        for (position, code) in results.enumerated() where code != WorkingState.clean.rawValue {
            changes[entries[Int(checked[position])].string] = code == WorkingState.deleted.rawValue ? .deleted : .modified
        }
        for range in ranges {
            for entry in entries[range] where entry.stage > 0 && scope.covers(entry.bytes) {
                changes[entry.string] = exists(entry.string, root: root) ? .modified : .deleted
            }
        }

        // 2. Untracked files: ignore rules (libgit2) for the candidates, on this thread.
        var untracked: [String] = []
        entries.withUnsafeBufferPointer { buffer in
            var walker = UntrackedWalker(repository: handle, entries: buffer, root: root, scope: scope)
            for found in candidates {
                for candidate in found { walker.consider(candidate) }
            }
            let tracked = Set(folders)
            for root in roots where !tracked.contains(root) { walker.considerRoot(root) }
            untracked = walker.untracked
        }

        // 3. Index against HEAD.
        var staged = StagedComparer(repository: handle, cachedTrees: index.cachedTrees, scope: scope)
        try entries.withUnsafeBufferPointer { buffer throws(GitError) in
            try staged.run(headTree: try headTreeID(), entries: buffer)
        }
        for (path, kind) in staged.changes {
            switch kind {
            case .added:
                if changes[path] == .deleted { changes[path] = nil } else { changes[path] = .added }
            case .modified:
                if changes[path] != .deleted { changes[path] = .modified }
            case .deleted:
                changes[path] = exists(path, root: root) ? .modified : .deleted
            }
        }
        for path in untracked where changes[path] == nil {
            changes[path] = .untracked
        }
        return WorkingTreeStatus(changes: changes)
    }

    /// The positions of the entries at or below `root` (a contiguous run, since
    /// the entries are sorted bytewise).
    private func rootRange(_ root: [UInt8], in entries: [IndexEntry]) -> Range<Int> {
        if root.isEmpty { return 0..<entries.count }
        return entries.withUnsafeBufferPointer { buffer in
            let lookup = EntryLookup(entries: buffer)
            let children = lookup.prefixRange(root + [UInt8(ascii: "/")], in: 0..<buffer.count)
            if let exact = lookup.find(root, in: 0..<buffer.count) {
                // `root` itself sorts before `root/`, with only `root` + bytes below `/` in between.
                return exact..<max(children.upperBound, exact + 1)
            }
            return children
        }
    }

    /// Every folder that holds an entry (and its ancestors) inside the scope's
    /// roots, where the scope may cover something.
    private func trackedFolders(_ entries: [IndexEntry], _ ranges: [Range<Int>], scope: PathScope) -> [[UInt8]] {
        let roots = scope.roots
        var seen = Set<[UInt8]>()
        var folders: [[UInt8]] = []
        var lastParent = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        for range in ranges {
            for entry in entries[range] {
                var slash = entry.length - 1
                while slash >= 0 && entry.path[slash] != UInt8(ascii: "/") { slash -= 1 }
                let parent = UnsafeBufferPointer(start: entry.path, count: max(slash, 0))
                if lastParent.baseAddress != nil && parent.elementsEqual(lastParent) { continue }
                lastParent = parent
                var folder = Array(parent)
                while folder.withUnsafeBufferPointer({ buffer in roots.contains { PathPattern.isInside(buffer, $0) } }),
                      seen.insert(folder).inserted {
                    folders.append(folder)
                    if folder.isEmpty { break }
                    folder = Array(folder[..<(folder.lastIndex(of: UInt8(ascii: "/")) ?? 0)])
                }
            }
        }
        return folders.filter { folder in
            folder.withUnsafeBufferPointer { scope.covers($0) || scope.mayCoverBelow($0) }
        }
    }

    private func exists(_ path: String, root: Int32) -> Bool {
        var info = stat()
        guard fstatat(root, path, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFREG || type == S_IFLNK
    }

    /// The tree id of the commit at HEAD, or nil when there is no commit yet (lock held).
    func headTreeID() throws(GitError) -> git_oid? {
        if git_repository_head_unborn(handle) == 1 { return nil }
        let commit = try lookupCommit("HEAD")
        defer { git_commit_free(commit) }
        return git_commit_tree_id(commit).pointee
    }
}
