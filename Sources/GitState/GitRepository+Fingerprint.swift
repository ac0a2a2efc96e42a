#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibGit2

extension GitRepository {
    /// Identifies a stage's inputs at `commit`, plus the working tree's changes.
    ///
    /// Each pattern is a file, a folder or a glob (see `PathPattern`). It is matched
    /// against `commit`'s tree — a folder gives its tree id, a file its blob id, read
    /// from the object database without opening any working file — and against the
    /// dirty paths in `status`, so that a new untracked file that a glob matches
    /// counts too. Only dirty files at or below a matched path are hashed, into the
    /// entry's `overlays`. Empty `patterns` stand for the whole tree: one entry with
    /// path `""` and the root tree id, overlaid with every dirty path in `status`.
    ///
    /// `status` should cover the patterns (e.g. `status(pathspecs: patterns)`);
    /// dirty paths outside it go unseen. `commit` is any revision `resolveCommit`
    /// accepts.
    public func fingerprint(patterns: [String], commit: String,
                            status: WorkingTreeStatus) throws(GitError) -> InputFingerprint {
        let dirty = status.changes.keys.map { Array($0.utf8) }
        var entries: [String: InputEntry] = [:]
        var unmatched: [String] = []

        try locked { () throws(GitError) in
            let commitHandle = try lookupCommit(commit)
            defer { git_commit_free(commitHandle) }
            var treeHandle: OpaquePointer?
            try LibGit2.check(git_commit_tree(&treeHandle, commitHandle), "reading the tree of commit \(commit)",
                              path: commit)
            guard let tree = treeHandle else { throw GitError(.libgit2, "commit \(commit) has no tree", path: commit) }
            defer { git_tree_free(tree) }

            if patterns.isEmpty {
                entries[""] = InputEntry(pattern: "", path: "", objectID: git_tree_id(tree).pointee.hex)
                return
            }
            for text in patterns {
                let pattern = PathPattern(text)
                var found = false
                func add(_ path: [UInt8], _ objectID: String) {
                    found = true
                    let key = String(decoding: path, as: UTF8.self)
                    if entries[key] == nil {
                        entries[key] = InputEntry(pattern: text, path: key, objectID: objectID)
                    }
                }
                if pattern.isValid {
                    if pattern.isGlob {
                        if let start = objectID(at: pattern.literalPrefix, in: tree), start.isTree {
                            var prefix = pattern.literalPrefix
                            try matchTree(start.id, prefix: &prefix, pattern: pattern, add: add)
                        }
                    } else if let object = objectID(at: pattern.normalized, in: tree) {
                        add(pattern.normalized, object.id.hex)
                    }
                    // Dirty working files the pattern covers (a new file, or one below a new folder).
                    for path in dirty {
                        guard let matched = coveringPath(path, pattern) else { continue }
                        let key = String(decoding: matched, as: UTF8.self)
                        if entries[key] != nil { found = true; continue }
                        add(matched, objectID(at: matched, in: tree)?.id.hex ?? "")
                    }
                }
                if !found { unmatched.append(text) }
            }
        }

        // Overlays: hash each dirty file once, outside the lock (no libgit2 call).
        let root = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw GitError.io("open the working tree", path: workdir, errno: errno) }
        defer { close(root) }
        var hasher = BlobHasher()
        var hashes: [String: String] = [:]
        var dirtyPaths: Set<String> = []
        for key in entries.keys {
            let folder = Array(key.utf8)
            for (path, change) in status.changes {
                let inside = Array(path.utf8).withUnsafeBufferPointer { PathPattern.isInside($0, folder) }
                guard inside else { continue }
                if hashes[path] == nil {
                    if change == .deleted {
                        hashes[path] = InputFingerprint.deletedMarker
                    } else {
                        hashes[path] = try hasher.hashFile(atPath: path, in: root).hex
                    }
                }
                entries[key]!.overlays[path] = hashes[path]
                dirtyPaths.insert(path)
            }
        }
        let sorted = entries.values.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        let dirtySorted = dirtyPaths.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return InputFingerprint(entries: sorted, dirtyPaths: dirtySorted, unmatchedPatterns: unmatched)
    }

    /// The git blob id of the working file at `relativePath` (its bytes, or a
    /// symbolic link's target), as `git hash-object` computes it. The file is
    /// streamed, never loaded whole.
    public func hashWorkingFile(_ relativePath: String) throws(GitError) -> String {
        let pattern = PathPattern(relativePath)
        guard pattern.isValid, !pattern.normalized.isEmpty else {
            throw GitError(.io, "'\(relativePath)' is not a file path inside the repository; give a path relative to '\(workdir)'",
                           path: relativePath)
        }
        var hasher = BlobHasher()
        let root = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw GitError.io("open the working tree", path: workdir, errno: errno) }
        defer { close(root) }
        return try hasher.hashFile(atPath: pattern.normalizedString, in: root).hex
    }

    /// The object at `path` in `tree` (`[]` is the tree itself). Lock held.
    private func objectID(at path: [UInt8], in tree: OpaquePointer) -> (id: git_oid, isTree: Bool)? {
        if path.isEmpty { return (git_tree_id(tree).pointee, true) }
        var entry: OpaquePointer?
        let result = path.withCString { git_tree_entry_bypath(&entry, tree, $0) }
        guard result == 0, let entry else { return nil }
        defer { git_tree_entry_free(entry) }
        return (git_tree_entry_id(entry).pointee, git_tree_entry_type(entry) == GIT_OBJECT_TREE)
    }

    /// Adds every path below the tree `id` (at `prefix`) that `pattern` matches,
    /// without descending into matched folders. Lock held.
    private func matchTree(_ id: git_oid, prefix: inout [UInt8], pattern: PathPattern,
                           add: ([UInt8], String) -> Void) throws(GitError) {
        var tree: OpaquePointer?
        var copy = id
        try LibGit2.check(git_tree_lookup(&tree, handle, &copy), "reading tree \(id.hex)", path: gitDirectory)
        defer { git_tree_free(tree) }
        let base = prefix.count
        for position in 0..<git_tree_entrycount(tree) {
            let entry = git_tree_entry_byindex(tree, position)
            let name = git_tree_entry_name(entry)!
            if base > 0 { prefix.append(UInt8(ascii: "/")) }
            prefix.append(contentsOf: UnsafeBufferPointer(
                start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: strlen(name)))
            defer { prefix.removeSubrange(base...) }
            let entryID = git_tree_entry_id(entry).pointee
            let isTree = git_tree_entry_type(entry) == GIT_OBJECT_TREE
            if prefix.withUnsafeBufferPointer({ pattern.matches($0) }) {
                add(prefix, entryID.hex)
            } else if isTree, prefix.withUnsafeBufferPointer({ pattern.mayCoverBelow($0) }) {
                try matchTree(entryID, prefix: &prefix, pattern: pattern, add: add)
            }
        }
    }

    /// The path `pattern` matches that is `path` or its nearest ancestor, or nil.
    private func coveringPath(_ path: [UInt8], _ pattern: PathPattern) -> [UInt8]? {
        path.withUnsafeBufferPointer { buffer -> [UInt8]? in
            guard pattern.covers(buffer) else { return nil }
            if !pattern.isGlob { return pattern.normalized }
            var end = pattern.literalPrefix.count
            while end <= buffer.count {
                if end == buffer.count || buffer[end] == UInt8(ascii: "/"),
                   end > 0, pattern.matches(UnsafeBufferPointer(rebasing: buffer[0..<end])) {
                    return Array(buffer[0..<end])
                }
                end += 1
            }
            return nil
        }
    }
}
