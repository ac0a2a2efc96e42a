#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small whole-file reads and atomic writes: JSON documents, memo entries, `oci-layout`.
///
/// A write goes to a temporary name in the same folder (created with its parents),
/// reaches the disk, and is renamed into place, so a reader sees the old file or the new
/// one, never half of one.
enum FileBytes {
    /// The file's bytes; a file larger than `limit` is refused, naming it.
    static func read(_ path: String, limit: Int = 64 << 20) throws(ImageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.system("open", path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { SystemCall.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ImageError.system("read", path)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit {
                throw ImageError(.unsupported, "'\(path)' is larger than \(limit) bytes, too large for what it "
                                 + "should be (a JSON document); check that the path is right", path: path)
            }
        }
    }

    /// Writes `bytes` to `path` through a temporary file and a rename.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
        let folder = parent(of: path)
        try makeDirectories(folder)
        let temporary = try temporaryPath(in: folder, for: path)
        let file = try OutputFile(creating: temporary)
        do throws(ImageError) {
            try file.write(bytes)
            try file.close()
            guard rename(temporary, path) == 0 else { throw ImageError.system("rename into place", path) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// A name for a temporary file or folder beside `path`: hidden, with the process id
    /// and a random part, so that concurrent writers never collide.
    static func temporaryPath(in folder: String, for path: String) throws(ImageError) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? "file"
        return folder + "/." + name + ".tmp-\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// The folder that holds `path`.
    static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    /// Creates `path` and the folders above it (mode 0755); an existing folder is fine.
    static func makeDirectories(_ path: String) throws(ImageError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw ImageError(.io, "'\(path)' is a file where a folder is needed; move it away", path: path)
            }
            return
        }
        let above = parent(of: path)
        if above != path && above != "/" && above != "." { try makeDirectories(above) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw ImageError.system("create the folder", path) }
    }

    /// Removes a file or a whole tree; a missing path is fine.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let names = try? LayerContents.names(in: path) {
                for name in names { removeTree(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
