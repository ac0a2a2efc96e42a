/// The part of the repository a status call looks at: the union of its pathspecs.
struct PathScope: Sendable {
    /// nil means the whole repository.
    let patterns: [PathPattern]?

    /// `nil`, or a list holding `""` or `"."`, means the whole repository. An
    /// empty list means nothing.
    init(pathspecs: [String]?) {
        guard let pathspecs else { patterns = nil; return }
        let parsed = pathspecs.map(PathPattern.init)
        if parsed.contains(where: { $0.isValid && $0.normalized.isEmpty }) {
            patterns = nil
        } else {
            patterns = parsed.filter(\.isValid)
        }
    }

    /// Whether the scope is the whole repository.
    var isWholeRepository: Bool { patterns == nil }

    /// Whether some pathspec covers `path` (matches it or an ancestor folder).
    func covers(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let patterns else { return true }
        for pattern in patterns where pattern.covers(path) { return true }
        return false
    }

    /// Whether a walk must descend into the folder `directory`.
    func mayCoverBelow(_ directory: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let patterns else { return true }
        for pattern in patterns where pattern.mayCoverBelow(directory) { return true }
        return false
    }

    /// The folders (or files) to walk: each pattern's literal prefix, without
    /// those that lie inside another. `[""]` for the whole repository.
    var roots: [[UInt8]] {
        guard let patterns else { return [[]] }
        let prefixes = Set(patterns.map(\.literalPrefix)).sorted { $0.lexicographicallyPrecedes($1) }
        var result: [[UInt8]] = []
        for prefix in prefixes {
            let nested = result.contains { root in
                prefix.withUnsafeBufferPointer { PathPattern.isInside($0, root) }
            }
            if !nested { result.append(prefix) }
        }
        return result
    }
}
