import Foundation

/// The files of a model to package, in a fixed order: a file is itself; a folder is
/// walked depth-first with names sorted by their UTF-8 bytes, skipping `.git` folders,
/// which is the order `ModelFormats.Scanner` walks it in (so a validate report's files
/// line up with these).
///
/// What would make a package depend on more than the model's bytes is refused rather
/// than skipped: a link that leads out of the model's folder (or nowhere), a link to a
/// folder (the scanner does not follow those, so its files would go unscanned), and
/// sockets, pipes and devices. A link to a file inside the folder is packaged as a copy
/// of that file. A folder with no files is refused: there is nothing to serve.
struct ModelTree {
    /// One file: where it goes under `model/`, and where its bytes are read from.
    struct Entry {
        /// The path under `model/`, `/`-separated: the file's name for a single file.
        let relative: String
        /// The path to read.
        let source: String
    }

    /// The files in walk order.
    let entries: [Entry]
    /// Whether the model is a folder.
    let isFolder: Bool

    /// Walks `path` (absolute); `display` is how messages name it.
    static func walk(_ path: String, display: String) throws(PackageError) -> ModelTree {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT {
                throw PackageError(.notFound, "the model \(display) does not exist; check the path, "
                                   + "or the stage that should write it", path: display)
            }
            throw PackageError.system("read", display)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            let name = (path as NSString).lastPathComponent
            return ModelTree(entries: [Entry(relative: name, source: path)], isFolder: false)
        case S_IFDIR:
            guard let root = realPath(path) else { throw PackageError.system("resolve", display) }
            var entries: [Entry] = []
            try walk(folder: path, relative: "", root: root, display: display, into: &entries)
            guard !entries.isEmpty else {
                throw PackageError(.invalidInput, "the folder \(display) holds no files; name the model file or a "
                                   + "folder that holds it", path: display)
            }
            return ModelTree(entries: entries, isFolder: true)
        default:
            throw PackageError(.unsupported, "\(display) is neither a file nor a folder; name the model file or "
                               + "its folder", path: display)
        }
    }

    private static func walk(folder: String, relative: String, root: String, display: String,
                             into entries: inout [Entry]) throws(PackageError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw PackageError(.io, "cannot list \(display)/\(relative): \(error.localizedDescription)", path: folder)
        }
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let path = folder + "/" + name
            let inner = relative.isEmpty ? name : relative + "/" + name
            let shown = display + "/" + inner
            var info = stat()
            guard lstat(path, &info) == 0 else { throw PackageError.system("read", shown) }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if name != ".git" { try walk(folder: path, relative: inner, root: root, display: display, into: &entries) }
            case S_IFREG:
                entries.append(Entry(relative: inner, source: path))
            case S_IFLNK:
                try checkLink(path, root: root, shown: shown)
                entries.append(Entry(relative: inner, source: path))
            default:
                throw PackageError(.unsupported, "\(shown) is a socket, pipe or device, not a file; remove it from "
                                   + "the model's folder", path: shown)
            }
        }
    }

    /// Accepts a link only to a regular file inside the model's folder.
    private static func checkLink(_ path: String, root: String, shown: String) throws(PackageError) {
        guard let target = realPath(path) else {
            throw PackageError(.unsupported, "\(shown) is a link to nothing; remove it or copy the file it "
                               + "meant into the model's folder", path: shown)
        }
        guard target.hasPrefix(root + "/") else {
            throw PackageError(.unsupported, "\(shown) is a link to \(target), outside the model's folder; a package "
                               + "holds only the model's own files: copy the file into the folder", path: shown)
        }
        var info = stat()
        guard stat(target, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw PackageError(.unsupported, "\(shown) is a link to a folder, whose files would not be scanned; "
                               + "put the files themselves in the model's folder", path: shown)
        }
    }

    /// The path with every link resolved, or nil when it leads nowhere.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
