/// One entry of a layer: a folder, a file whose bytes come from a file on this machine,
/// or a symbolic link, at a path inside the image.
///
/// Its mode is already normalised (0755 for a folder or an executable file, 0644 for
/// another file, 0777 for a link), so that two checkouts with different umasks give the
/// same layer. Owner, group and time are not here: every entry of a layer has owner 0,
/// group 0 and the layer's one mtime.
public struct LayerEntry: Sendable, Hashable {
    /// What the entry is.
    public enum Content: Sendable, Hashable {
        case directory
        /// A regular file, read from `source` when the layer is written; `stamp` is what
        /// `lstat` said when it was added, checked again when it is written.
        case file(source: String, stamp: FileStamp)
        /// A symbolic link, kept as a link (its target is not followed).
        case symlink(target: String)
    }

    /// The path inside the image, relative to `/`, without `.` or `..` components or a
    /// trailing slash (`opt/mlpipe/app/main.py`).
    public var path: String
    public var content: Content
    /// The normalised permission bits.
    public var mode: UInt32

    /// The mode of an ordinary file.
    public static let fileMode: UInt32 = 0o644
    /// The mode of a folder or an executable file.
    public static let executableMode: UInt32 = 0o755
    /// The mode of a symbolic link.
    public static let symlinkMode: UInt32 = 0o777

    /// A folder entry.
    public static func directory(_ path: String) -> LayerEntry {
        LayerEntry(path: path, content: .directory, mode: executableMode)
    }

    /// The size of the content the entry carries.
    var size: Int64 {
        if case .file(_, let stamp) = content { return stamp.size }
        return 0
    }

    var isDirectory: Bool {
        if case .directory = content { return true }
        return false
    }

    /// `path` as a path inside an image: `/`, `.` and empty components dropped; nil when
    /// it has a `..` component (which could point outside the image's root).
    public static func normalized(_ path: String) -> String? {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { return nil }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }
}
