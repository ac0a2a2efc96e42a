#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibGit2

/// How the index differs from the commit at HEAD for one path.
enum StagedChange {
    case added, modified, deleted
}

/// Compares HEAD's tree with the index entries: the staged changes.
///
/// The walk goes down HEAD's tree only where the scope may cover something, and
/// skips every folder whose cached tree id in the index equals the tree's id —
/// after `git commit` that is the root, so a clean index costs one comparison.
/// Index entries that no tree entry matched are new (staged additions).
struct StagedComparer {
    let repository: OpaquePointer
    let cachedTrees: [[UInt8]: git_oid]
    let scope: PathScope
    private(set) var changes: [String: StagedChange] = [:]
    private var matched: [Bool] = []

    init(repository: OpaquePointer, cachedTrees: [[UInt8]: git_oid], scope: PathScope) {
        self.repository = repository
        self.cachedTrees = cachedTrees
        self.scope = scope
    }

    /// Fills ``changes`` for `entries` (sorted bytewise, covering the scope's roots).
    /// Lock held: reads trees through libgit2.
    mutating func run(headTree: git_oid?, entries: UnsafeBufferPointer<IndexEntry>) throws(GitError) {
        if let headTree, let cached = cachedTrees[[]], cached.same(as: headTree) { return }
        matched = [Bool](repeating: false, count: entries.count)
        if let headTree {
            var path: [UInt8] = []
            try compare(headTree, &path, 0..<entries.count, entries)
        }
        for (position, entry) in entries.enumerated()
        where !matched[position] && entry.stage == 0 && scope.covers(entry.bytes) {
            changes[entry.string] = .added
        }
    }

    private mutating func compare(_ tree: git_oid, _ path: inout [UInt8], _ range: Range<Int>,
                                  _ entries: UnsafeBufferPointer<IndexEntry>) throws(GitError) {
        if let cached = cachedTrees[path], cached.same(as: tree) {
            for position in range { matched[position] = true }
            return
        }
        let handle = try lookupTree(tree)
        defer { git_tree_free(handle) }
        let lookup = EntryLookup(entries: entries)
        let base = path.count
        for position in 0..<git_tree_entrycount(handle) {
            let item = git_tree_entry_byindex(handle, position)
            let name = git_tree_entry_name(item)!
            if base > 0 { path.append(UInt8(ascii: "/")) }
            path.append(contentsOf: UnsafeBufferPointer(
                start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: strlen(name)))
            defer { path.removeSubrange(base...) }
            let id = git_tree_entry_id(item).pointee
            let isTree = git_tree_entry_type(item) == GIT_OBJECT_TREE
            let covered = path.withUnsafeBufferPointer { scope.covers($0) }
            guard covered || (isTree && path.withUnsafeBufferPointer { scope.mayCoverBelow($0) }) else { continue }
            if isTree {
                path.append(UInt8(ascii: "/"))
                let children = lookup.prefixRange(path, in: range)
                path.removeLast()
                if children.isEmpty {
                    try recordAll(id, &path, .deleted)
                } else {
                    try compare(id, &path, children, entries)
                }
                continue
            }
            guard var found = lookup.find(path, in: range) else {
                if covered { record(path, .deleted) }
                continue
            }
            let entry = entries[found]
            // Mark every stage of the path; conflicts are reported from the entries.
            while found < range.upperBound,
                  IndexEntry.compare(entries[found].bytes, entry.bytes) == 0 {
                matched[found] = true
                found += 1
            }
            if entry.stage != 0 || !covered { continue }
            if !entry.id.same(as: id) || entry.mode != git_tree_entry_filemode(item).rawValue {
                record(path, .modified)
            }
        }
    }

    /// Records every file below the tree `id` as `change`.
    private mutating func recordAll(_ id: git_oid, _ path: inout [UInt8], _ change: StagedChange) throws(GitError) {
        let handle = try lookupTree(id)
        defer { git_tree_free(handle) }
        let base = path.count
        for position in 0..<git_tree_entrycount(handle) {
            let item = git_tree_entry_byindex(handle, position)
            let name = git_tree_entry_name(item)!
            path.append(UInt8(ascii: "/"))
            path.append(contentsOf: UnsafeBufferPointer(
                start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: strlen(name)))
            defer { path.removeSubrange(base...) }
            if git_tree_entry_type(item) == GIT_OBJECT_TREE {
                if path.withUnsafeBufferPointer({ scope.covers($0) || scope.mayCoverBelow($0) }) {
                    try recordAll(git_tree_entry_id(item).pointee, &path, change)
                }
            } else {
                record(path, change)
            }
        }
    }

    private mutating func record(_ path: [UInt8], _ change: StagedChange) {
        if path.withUnsafeBufferPointer({ scope.covers($0) }) {
            changes[String(decoding: path, as: UTF8.self)] = change
        }
    }

    private func lookupTree(_ id: git_oid) throws(GitError) -> OpaquePointer {
        var tree: OpaquePointer?
        var copy = id
        try LibGit2.check(git_tree_lookup(&tree, repository, &copy), "reading tree \(id.hex)",
                          hint: "the repository may be incomplete (a shallow or partial clone); run `git fsck`")
        return tree!
    }
}
