/// One path that an input pattern matched, with its git identity at a commit.
///
/// The ``objectID`` comes from the commit's tree in the object database, so a
/// clean input costs no file read. Working-tree changes at or below ``path`` are
/// listed in ``overlays``; a cache key built from `objectID` plus `overlays`
/// changes exactly when the content a stage would read changes.
public struct InputEntry: Sendable, Hashable {
    /// The pattern (as declared) that matched this path.
    public var pattern: String
    /// The matched path, relative to the repository root; `""` is the whole tree.
    public var path: String
    /// The git object id at the commit: a blob id for a file, a tree id for a
    /// folder, or `""` when the path does not exist in the commit (a new file).
    public var objectID: String
    /// For each dirty file at or below ``path``: its repository-relative path ->
    /// the git blob id of its working-tree content, or `"deleted"`.
    public var overlays: [String: String]

    /// Creates an entry.
    public init(pattern: String, path: String, objectID: String, overlays: [String: String] = [:]) {
        self.pattern = pattern
        self.path = path
        self.objectID = objectID
        self.overlays = overlays
    }
}

/// What a stage's declared inputs are, at a commit plus the working tree's changes.
///
/// Built by ``GitRepository/fingerprint(patterns:commit:status:)``.
public struct InputFingerprint: Sendable, Hashable {
    /// One entry per matched path, sorted by path (bytewise).
    public var entries: [InputEntry]
    /// Every dirty path that entered an overlay, sorted.
    public var dirtyPaths: [String]
    /// Whether any input differs from the commit in the working tree.
    public var isDirty: Bool
    /// Patterns that matched nothing in the commit or the working tree, in the
    /// order given; the caller decides whether that is an error.
    public var unmatchedPatterns: [String]

    /// Creates a fingerprint; ``isDirty`` follows from `dirtyPaths`.
    public init(entries: [InputEntry], dirtyPaths: [String], unmatchedPatterns: [String]) {
        self.entries = entries
        self.dirtyPaths = dirtyPaths
        self.isDirty = !dirtyPaths.isEmpty
        self.unmatchedPatterns = unmatchedPatterns
    }

    /// The marker an overlay holds for a file deleted from the working tree.
    public static let deletedMarker = "deleted"
}
