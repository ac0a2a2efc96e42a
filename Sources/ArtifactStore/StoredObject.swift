import Canonical

/// Whether an object is one file or a folder's manifest.
public enum ObjectKind: String, Sendable, Codable, Hashable {
    /// A single file's bytes.
    case file
    /// A folder: the object is its manifest, listing each file's path and digest.
    case tree
}

/// A reference to something in the store: what a run records for each output.
///
/// For a tree, `digest` names the manifest and `size` is the total size of the
/// folder's files (not of the manifest), which is what a person wants to see.
public struct StoredObject: Sendable, Hashable, Codable {
    /// The object's name: the file's digest, or the manifest's for a tree.
    public var digest: Digest
    /// A file or a folder.
    public var kind: ObjectKind
    /// Total bytes of the file or of the folder's files.
    public var size: Int64

    /// Creates a reference.
    public init(digest: Digest, kind: ObjectKind, size: Int64) {
        self.digest = digest
        self.kind = kind
        self.size = size
    }
}
