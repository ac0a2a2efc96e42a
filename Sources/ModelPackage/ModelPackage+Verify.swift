import Foundation

extension ModelPackage {
    /// Most problems a verification error lists; the rest are counted.
    static let listedProblems = 10

    /// Checks that every path of the manifest is a plain relative path under `model/`,
    /// listed once and in order, and that `model` is one of them: a manifest that names
    /// `../x` must not make a reader look outside the package.
    func checkManifestPaths() throws(PackageError) {
        var problems: [String] = []
        var previous: String?
        for file in manifest.files {
            if let problem = Self.problem(withPath: file.path) { problems.append(problem) }
            if let previous, !previous.utf8.lexicographicallyPrecedes(file.path.utf8) {
                problems.append("\(file.path) is listed out of order or twice")
            }
            if file.size < 0 { problems.append("\(file.path) has a negative size") }
            previous = file.path
        }
        if !manifest.files.contains(where: { $0.path == manifest.model }) {
            problems.append("the main file '\(manifest.model)' is not among the files")
        }
        if !problems.isEmpty {
            throw corrupt("has a damaged manifest: " + Self.summary(problems))
        }
    }

    /// What is wrong with a manifest path, or nil when it is `model/` plus plain names.
    static func problem(withPath path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == Substring(modelFolder) else {
            return "'\(path)' is not under \(modelFolder)/"
        }
        if parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.contains("\0") }) {
            return "'\(path)' has an empty, '.' or '..' part"
        }
        return nil
    }

    /// Checks that the folder holds exactly the manifest's files, with their sizes and
    /// digests; throws `corrupt` listing what differs.
    func verifyFiles() throws(PackageError) {
        var problems: [String] = []
        var onDisk: [String: Int64] = [:]
        listRoot(into: &onDisk, problems: &problems)
        for file in manifest.files {
            guard let size = onDisk.removeValue(forKey: file.path) else {
                problems.append("\(file.path) is missing")
                continue
            }
            guard size == file.size else {
                problems.append("\(file.path) is \(size) bytes, the manifest says \(file.size) (changed)")
                continue
            }
            do {
                let (digest, _) = try FileCopy.digest(of: root + "/" + file.path)
                if digest != file.sha256 {
                    problems.append("\(file.path) has \(digest), the manifest says \(file.sha256) (changed)")
                }
            } catch {
                problems.append("\(file.path) cannot be read: \(error)")
            }
        }
        for extra in onDisk.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            problems.append("\(extra) is not in the manifest (an extra file)")
        }
        if !problems.isEmpty {
            throw corrupt("does not match its manifest: " + Self.summary(problems))
        }
    }

    /// Every regular file of the package but the manifest, by path, with its size; any
    /// other entry (a link, a socket, a top-level file beside `model/`) is a problem.
    private func listRoot(into files: inout [String: Int64], problems: inout [String]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root)
        } catch {
            problems.append("the folder cannot be listed: \(error.localizedDescription)")
            return
        }
        for name in names where name != Self.manifestName {
            if name == Self.modelFolder, isFolder(root + "/" + name) {
                list(folder: name, into: &files, problems: &problems)
            } else {
                files[name] = fileSize(root + "/" + name) ?? -1
                if files[name] == -1 { problems.append("\(name) is not a regular file") }
            }
        }
    }

    private func list(folder relative: String, into files: inout [String: Int64], problems: inout [String]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root + "/" + relative)
        } catch {
            problems.append("\(relative) cannot be listed: \(error.localizedDescription)")
            return
        }
        for name in names {
            let path = relative + "/" + name
            if isFolder(root + "/" + path) {
                list(folder: path, into: &files, problems: &problems)
            } else if let size = fileSize(root + "/" + path) {
                files[path] = size
            } else {
                problems.append("\(path) is a link or a special file, which a package never holds")
            }
        }
    }

    /// Whether `path` is a folder itself (not a link to one).
    private func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// The size of a regular file that is not a link; nil for anything else.
    private func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    private func corrupt(_ what: String) -> PackageError {
        PackageError(.corrupt, "the package at \(root) \(what); rebuild it with `kind: serialize` rather than "
                     + "editing it", path: root)
    }

    /// Problems joined with "; ", the first `listedProblems` of them.
    static func summary(_ problems: [String]) -> String {
        let shown = problems.prefix(listedProblems).joined(separator: "; ")
        return problems.count > listedProblems ? shown + "; and \(problems.count - listedProblems) more" : shown
    }
}
