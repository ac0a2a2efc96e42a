/// What one declared input contributes to a cache key: its git object id, and for
/// uncommitted content a digest of what changed.
///
/// Its text form is what the key's `inputs` field holds, written and read only here:
///
///     1f7a…                         a committed file or folder (blob or tree id)
///     tree:9c2e…                    the commit's whole tree (a stage with no inputs)
///     1f7a…+dirty:0123456789abcdef  the same, with uncommitted changes under it: the
///                                   first 16 hex digits of the SHA-256 of the changed
///                                   paths and their working-tree blob ids
///
/// The form is that of the cache key format 1, so keys made before this type existed
/// still match.
struct InputID: Sendable, Hashable {
    /// The object id at the run's commit (empty when the path is new and uncommitted).
    var objectID: String
    /// True for the entry that stands for the commit's whole tree.
    var isWholeTree: Bool
    /// A digest of the uncommitted changes under the path, if any.
    var dirtyDigest: String?

    static let treePrefix = "tree:"
    static let dirtyMarker = "+dirty:"

    /// Whether uncommitted content took part.
    var isDirty: Bool { dirtyDigest != nil }

    /// The text that enters the key.
    var text: String {
        var text = isWholeTree ? Self.treePrefix + objectID : objectID
        if let dirtyDigest { text += Self.dirtyMarker + dirtyDigest }
        return text
    }

    init(objectID: String, isWholeTree: Bool, dirtyDigest: String?) {
        self.objectID = objectID
        self.isWholeTree = isWholeTree
        self.dirtyDigest = dirtyDigest
    }

    /// Reads a key's `inputs` value back (from an earlier run's recorded key).
    init(text: String) {
        var rest = Substring(text)
        isWholeTree = rest.hasPrefix(Self.treePrefix)
        if isWholeTree { rest = rest.dropFirst(Self.treePrefix.count) }
        if let marker = rest.range(of: Self.dirtyMarker) {
            dirtyDigest = String(rest[marker.upperBound...])
            rest = rest[..<marker.lowerBound]
        } else {
            dirtyDigest = nil
        }
        objectID = String(rest)
    }
}
