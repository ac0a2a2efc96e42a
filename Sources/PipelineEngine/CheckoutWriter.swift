#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArtifactStore
import Canonical
import Foundation
import GitState

/// Places checked-out outputs under a root folder for ``RunCheckout``: decides which
/// existing files may be replaced, and replaces them by copy and rename.
///
/// It works from a staged copy that the store made (and checked against its digest) in
/// the workspace, and copies it again beside its destination, so that what lands in the
/// working tree never shares an inode with the store, even where the store hard-links.
struct CheckoutWriter {
    /// What is at an output's destination now.
    enum Verdict {
        /// Nothing to write: it already has the output's content.
        case same
        /// Absent, or every file there can be had again (from the store or from git).
        case replaceable
        /// Files, relative to the root, that hold content found nowhere else.
        case conflicts([String])
    }

    var root: String
    var repo: GitRepository
    var objects: any ArtifactStore

    /// Compares what is at `root/relative` with the staged output at `staged`.
    func inspect(_ relative: String, staged: String) async throws(EngineError) -> Verdict {
        let target = root + "/" + relative
        let existing = try files(under: target)
        if existing.isEmpty { return .replaceable }
        let wanted = try files(under: staged)
        if Set(existing.keys) == Set(wanted.keys), isDirectory(target) == isDirectory(staged) {
            var same = true
            for (name, path) in existing {
                guard let other = wanted[name], try digest(path) == digest(other) else {
                    same = false
                    break
                }
            }
            if same { return .same }
        }
        // Each existing file that will be replaced or removed must be recoverable.
        var unrecoverable: [String] = []
        for (name, path) in existing.sorted(by: { $0.key < $1.key }) {
            let content = try digest(path)
            if await objects.contains(content) { continue }
            unrecoverable.append(name.isEmpty ? relative : relative + "/" + name)
        }
        let conflicts = unrecoverable.filter { !isCleanInGit(root + "/" + $0) }
        return conflicts.isEmpty ? .replaceable : .conflicts(conflicts)
    }

    /// Copies the staged output to `root/relative`, replacing what is there.
    func place(_ staged: String, at relative: String) throws(EngineError) {
        let target = root + "/" + relative
        let parent = (target as NSString).deletingLastPathComponent
        let base = (target as NSString).lastPathComponent
        let temporary = parent + "/.\(base).mlpipe-checkout-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: temporary)
            try copyTree(staged, to: temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw EngineError(.environment, "cannot write \(target): \(describe(error)); make the folder writable, or check out elsewhere with --to DIR",
                              cause: error)
        }
        // A file replaces a file in one rename; a folder (which rename cannot replace)
        // moves the old one aside first.
        if rename(temporary, target) == 0 { return }
        let aside = parent + "/.\(base).mlpipe-old-\(getpid())"
        guard rename(target, aside) == 0, rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            if access(target, F_OK) != 0 { _ = rename(aside, target) }
            try? FileManager.default.removeItem(atPath: temporary)
            throw EngineError(.environment, "cannot replace \(target): \(reason); move it away, or check out elsewhere with --to DIR")
        }
        try? FileManager.default.removeItem(atPath: aside)
    }

    /// The regular files at `path`, by their path below it (`""` for a file itself);
    /// empty when nothing is there.
    func files(under path: String) throws(EngineError) -> [String: String] {
        var info = stat()
        guard lstat(path, &info) == 0 else { return [:] }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return ["": path] }
        var found: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw EngineError(.environment, "cannot read the folder \(path); check its permissions")
        }
        while let name = walker.nextObject() as? String {
            let full = path + "/" + name
            var entry = stat()
            if lstat(full, &entry) == 0, (entry.st_mode & S_IFMT) != S_IFDIR { found[name] = full }
        }
        return found
    }

    func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The SHA-256 of a file (of a symbolic link's target text, for a link).
    func digest(_ path: String) throws(EngineError) -> Digest {
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? ""
            return SHA256Hasher.digest(of: Array(target.utf8))
        }
        do {
            return try FileDigest.sha256(path: path).digest
        } catch {
            throw EngineError(.environment, "cannot read \(path): \(error)", cause: error)
        }
    }

    /// Whether `path` is tracked by git at HEAD and unmodified in the working tree, so
    /// that `git checkout` gives it back. A path with glob characters is never taken
    /// for clean: git's pathspecs would read it as a pattern.
    func isCleanInGit(_ path: String) -> Bool {
        let workdir = repo.workdir.hasSuffix("/") ? String(repo.workdir.dropLast()) : repo.workdir
        guard path.hasPrefix(workdir + "/") else { return false }
        let relative = String(path.dropFirst(workdir.count + 1))
        guard !relative.contains(where: { "*?[]\\".contains($0) }) else { return false }
        do {
            let status = try repo.status(pathspecs: [relative])
            guard status.isClean else { return false }
            let atHead = try repo.fingerprint(patterns: [relative], commit: "HEAD", status: status)
            return atHead.unmatchedPatterns.isEmpty && atHead.entries.contains { $0.path == relative }
        } catch {
            return false
        }
    }

    /// Copies a file, or a folder and everything in it, to a new `destination`: plain
    /// files with their executable bit (under the umask), links as links.
    func copyTree(_ source: String, to destination: String) throws {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
            for name in try FileManager.default.contentsOfDirectory(atPath: source).sorted() {
                try copyTree(source + "/" + name, to: destination + "/" + name)
            }
        case S_IFLNK:
            try FileManager.default.createSymbolicLink(
                atPath: destination, withDestinationPath: FileManager.default.destinationOfSymbolicLink(atPath: source))
        default:
            try copyFile(source, to: destination, executable: info.st_mode & 0o111 != 0)
        }
    }

    /// Copies the bytes of one file to a new file.
    func copyFile(_ source: String, to destination: String, executable: Bool) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, executable ? 0o777 : 0o666)
        guard output >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let count = read(input, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            if count == 0 { return }
            var written = 0
            while written < count {
                let n = write(output, buffer.baseAddress! + written, count - written)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                written += n
            }
        }
    }

    func describe(_ error: any Error) -> String {
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return error.localizedDescription
    }
}
