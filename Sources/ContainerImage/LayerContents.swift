#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What goes into one layer: files, folders and links at paths inside the image, from a
/// folder on this machine or one file at a time.
///
/// ```swift
/// var app = LayerContents()
/// try app.addTree("templates/serving/python", at: "/opt/mlpipe/app")
/// try app.addFile("build/VERSION", at: "/opt/mlpipe/VERSION")
/// let entries = app.entries   // sorted by path, parent folders first
/// ```
///
/// Every folder on the way to an entry is an entry too, so that the tar has them before
/// their content, owned by root with mode 0755, as `docker build` would make them.
/// Adding a path twice keeps the later one (as a later `COPY` does); a file where a
/// folder with entries already is, or the other way round, is refused. Sockets, pipes and
/// devices are refused with the path named: an image layer cannot carry them
/// meaningfully.
public struct LayerContents: Sendable {
    private var byPath: [String: LayerEntry] = [:]

    /// Nothing yet.
    public init() {}

    /// Every entry, sorted by the bytes of its path, which puts each folder before what
    /// it holds.
    public var entries: [LayerEntry] {
        byPath.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// Whether nothing has been added.
    public var isEmpty: Bool { byPath.isEmpty }

    /// The sum of the regular files' sizes.
    public var contentSize: Int64 { byPath.values.reduce(0) { $0 + $1.size } }

    /// Adds `folder`'s whole tree under `imagePath` (the folder itself becomes
    /// `imagePath`). Symbolic links inside are kept as links. A file or folder whose name
    /// `including` refuses is left out, with everything below it.
    public mutating func addTree(_ folder: String, at imagePath: String,
                                 including: (String) -> Bool = { _ in true }) throws(ImageError) {
        let target = try Self.imagePath(imagePath, for: folder)
        let stamp = try FileStamp(path: folder)
        guard stamp.isDirectory else {
            try add(folder, stamp: stamp, at: target)
            return
        }
        if !target.isEmpty { try insert(.directory(target)) }
        try walk(folder, into: target, including: including)
    }

    /// Adds one file (or link, or folder with its tree) at `imagePath`.
    public mutating func addFile(_ source: String, at imagePath: String) throws(ImageError) {
        let target = try Self.imagePath(imagePath, for: source)
        let stamp = try FileStamp(path: source)
        if stamp.isDirectory {
            try addTree(source, at: imagePath)
        } else {
            try add(source, stamp: stamp, at: target)
        }
    }

    /// Adds an empty folder (and its parents).
    public mutating func addDirectory(at imagePath: String) throws(ImageError) {
        let target = try Self.imagePath(imagePath, for: imagePath)
        if !target.isEmpty { try insert(.directory(target)) }
    }

    /// Adds a symbolic link to `target` (kept as it is, relative or absolute).
    public mutating func addSymlink(at imagePath: String, target: String) throws(ImageError) {
        let path = try Self.imagePath(imagePath, for: imagePath)
        try insert(LayerEntry(path: path, content: .symlink(target: target), mode: LayerEntry.symlinkMode))
    }

    private mutating func add(_ source: String, stamp: FileStamp, at path: String) throws(ImageError) {
        guard !path.isEmpty else {
            throw ImageError(.unsupported, "cannot put the file '\(source)' at the image's root folder; "
                             + "give it a path such as /model/\(Self.lastComponent(source))", path: source)
        }
        if stamp.isRegularFile {
            let mode = stamp.isExecutable ? LayerEntry.executableMode : LayerEntry.fileMode
            try insert(LayerEntry(path: path, content: .file(source: source, stamp: stamp), mode: mode))
        } else if stamp.isSymlink {
            try insert(LayerEntry(path: path, content: .symlink(target: try Self.readLink(source)),
                                  mode: LayerEntry.symlinkMode))
        } else if stamp.isDirectory {
            try insert(.directory(path))
        } else {
            throw ImageError(.unsupported, "'\(source)' is a socket, pipe or device, which an image layer cannot "
                             + "carry; remove it or leave its folder out", path: source)
        }
    }

    /// Adds every entry under the folder `folder`, depth first.
    private mutating func walk(_ folder: String, into imagePath: String,
                               including: (String) -> Bool) throws(ImageError) {
        for name in try Self.names(in: folder) where including(name) {
            let source = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let path = imagePath.isEmpty ? name : imagePath + "/" + name
            let stamp = try FileStamp(path: source)
            if stamp.isDirectory {
                try insert(.directory(path))
                try walk(source, into: path, including: including)
            } else {
                try add(source, stamp: stamp, at: path)
            }
        }
    }

    /// Adds `entry` and the folders above it.
    private mutating func insert(_ entry: LayerEntry) throws(ImageError) {
        var parent = entry.path
        while let slash = parent.utf8.lastIndex(of: UInt8(ascii: "/")) {
            parent = String(parent[..<slash])
            if let existing = byPath[parent] {
                guard existing.isDirectory else { throw conflict(parent, entry.path) }
                break
            }
            byPath[parent] = .directory(parent)
        }
        if let existing = byPath[entry.path], existing.isDirectory, !entry.isDirectory,
           byPath.keys.contains(where: { $0.hasPrefix(entry.path + "/") }) {
            throw conflict(entry.path, entry.path + "/…")
        }
        byPath[entry.path] = entry
    }

    private func conflict(_ path: String, _ inside: String) -> ImageError {
        ImageError(.unsupported, "the layer has both a file and a folder at /\(path) (for /\(inside)); "
                   + "give one of them another path", path: path)
    }

    /// `imagePath` normalised, or an error naming `source` when it leaves the image.
    static func imagePath(_ imagePath: String, for source: String) throws(ImageError) -> String {
        guard let path = LayerEntry.normalized(imagePath) else {
            throw ImageError(.unsupported, "the image path '\(imagePath)' for '\(source)' has a '..' component; "
                             + "write an absolute path inside the image, such as /opt/app", path: source)
        }
        return path
    }

    static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The names in a folder, without `.` and `..`.
    static func names(in folder: String) throws(ImageError) -> [String] {
        guard let directory = opendir(folder) else { throw ImageError.system("list the folder", folder) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A symbolic link's target.
    static func readLink(_ path: String) throws(ImageError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink(path, &buffer, 4096)
        guard count >= 0 else { throw ImageError.system("read the link", path) }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
