import Canonical

/// One file of a package, as its manifest lists it: the path from the package root
/// (`model/...`), the SHA-256 of its bytes and its size.
///
/// The manifest lists every file of the package but `mlpipe-model.json` itself, sorted
/// by path (UTF-8 byte order), so that a reader can tell a changed, missing or added
/// file from the manifest alone.
public struct PackageFile: Sendable, Codable, Hashable {
    /// The path from the package root, with `/` separators, always under `model/`.
    public var path: String
    /// The SHA-256 of the file's bytes.
    public var sha256: Digest
    /// The file's size in bytes.
    public var size: Int64

    /// Creates an entry.
    public init(path: String, sha256: Digest, size: Int64) {
        self.path = path
        self.sha256 = sha256
        self.size = size
    }
}
