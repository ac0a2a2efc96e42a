#if canImport(Glibc)
import Canonical
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX helpers with ``StoreError`` failures.
enum FileSystem {
    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(StoreError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw StoreError(.io, "'\(path)' exists and is not a folder; move it away so the store can use this path",
                                 path: path)
            }
            return
        }
        let parent = parentFolder(of: path)
        if !parent.isEmpty && parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw StoreError.system("create the folder", path) }
    }

    /// The folder holding `path` (`""` for a bare name, `/` for a top-level path).
    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path`.
    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// A fresh, unused name in `folder`: process id and 64 random bits.
    static func temporaryName(in folder: String, prefix: String = "") -> String {
        let random = UInt64.random(in: 0...UInt64.max)
        let hex = String(random, radix: 16)
        return folder + "/" + prefix + "\(getpid())-" + String(repeating: "0", count: 16 - hex.count) + hex + ".tmp"
    }

    static func readAll(_ path: String) throws(StoreError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.system("read", path) }
        defer { close(fd) }
        return try readAll(fd, path: path)
    }

    /// The rest of the file open at `fd` (`path` names it in errors).
    static func readAll(_ fd: Int32, path: String) throws(StoreError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StoreError.system("read", path)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// Whether the file at `path` starts with `[`, as a manifest does. Throws when
    /// it cannot be read: an unreadable file is not known not to be a manifest.
    static func startsWithBracket(_ path: String) throws(StoreError) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.system("read", path) }
        defer { close(fd) }
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw StoreError.system("read", path) }
            return count == 1 && byte == UInt8(ascii: "[")
        }
    }

    /// Writes `bytes` to a new file at `path` (which must not exist), then calls
    /// `finish` with the open descriptor before closing it.
    static func writeAll(_ bytes: [UInt8], to path: String, mode: mode_t,
                         finish: (Int32) -> Void = { _ in }) throws(StoreError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw StoreError.system("create", path) }
        defer { close(fd) }
        let result: Result<Void, StoreError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(StoreError) in try FileDigest.writeAll(buffer, to: fd, path: path) }
        }
        try result.get()
        finish(fd)
    }

    /// The names in `folder`, without `.` and `..`, in no particular order.
    static func names(in folder: String) throws(StoreError) -> [String] {
        guard let directory = opendir(folder) else { throw StoreError.system("list", folder) }
        defer { closedir(directory) }
        var names: [String] = []
        while let item = readdir(directory) {
            let name = withUnsafeBytes(of: &item.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A file found in a folder to be stored.
    struct FoundFile {
        var path: String
        var executable: Bool
    }

    /// Every file below `folder` (relative paths), following links to files.
    /// Throws for anything else: a link to a folder or a dangling link, a socket,
    /// a name that is not valid UTF-8 (it could not be recorded faithfully).
    static func listFiles(in folder: String, relative: String = "") throws(StoreError) -> [FoundFile] {
        let here = relative.isEmpty ? folder : folder + "/" + relative
        guard let directory = opendir(here) else { throw StoreError.system("list", here) }
        defer { closedir(directory) }
        var files: [FoundFile] = []
        while let item = readdir(directory) {
            let raw = withUnsafeBytes(of: &item.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if raw == [UInt8(ascii: ".")] || raw == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            guard let name = String(validating: raw, as: UTF8.self) else {
                throw StoreError(.unsupportedFile,
                                 "a file name in '\(here)' is not valid UTF-8; rename it so it can be recorded in the manifest",
                                 path: here)
            }
            let path = relative.isEmpty ? name : relative + "/" + name
            let full = folder + "/" + path
            var info = stat()
            guard lstat(full, &info) == 0 else { throw StoreError.system("read", full) }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                files += try listFiles(in: folder, relative: path)
            case S_IFREG:
                files.append(FoundFile(path: path, executable: info.st_mode & 0o100 != 0))
            case S_IFLNK:
                guard stat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                    throw StoreError(.unsupportedFile,
                                     "'\(full)' is a symbolic link to a folder or to nothing; replace it with the files it should stand for",
                                     path: full)
                }
                files.append(FoundFile(path: path, executable: info.st_mode & 0o100 != 0))
            default:
                throw StoreError(.unsupportedFile,
                                 "'\(full)' is not a regular file (a socket, pipe or device); remove it from the output folder",
                                 path: full)
            }
        }
        return files
    }

    /// `rm -rf`, ignoring failures (used to clean up after a failure).
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? names(in: path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// Reading times out of `stat` on both platforms.
enum ObjectStat {
    /// The modification time.
    static func time(_ info: stat) -> timespec {
        #if canImport(Darwin)
        return info.st_mtimespec
        #else
        return info.st_mtim
        #endif
    }

    /// Bytes the file takes on disk: its allocated 512-byte blocks, which is what
    /// `du` counts (a sparse file takes less than its size, a small one a whole block).
    static func diskBytes(_ info: stat) -> Int64 {
        Int64(info.st_blocks) * 512
    }
}
