import Canonical
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The serving runtime's Python packages as one layer at `/opt/mlpipe/site-packages`:
/// installed from wheels only, for the image's Python and platform rather than this
/// machine's, with `pip install --target` (no bytecode), and kept by the digest of the
/// requirement lines, so that a new model with the same runtime re-uses both the
/// installed folder and the layer.
///
/// The key (`key`) is the SHA-256 of a canonical JSON of the sorted, de-duplicated
/// requirement lines, the Python version, the platforms and this recipe's version. The
/// installed folder is `<folder>/<key hex>`, made in a temporary folder beside it and
/// renamed into place when pip succeeds. pip itself is started by the caller (`run`),
/// so that the caller's process handling (its log, cancellation, timeout) applies.
///
/// Scripts pip writes to `bin/` are removed: their `#!` line names this machine's
/// Python, which the image does not have, and would make the layer differ from one
/// machine to the next. Lines that pin every package (`name==version`, transitive ones
/// too) give the same packages on every machine; an unpinned line resolves to what the
/// index has on the day of the first install, and stays so here until the cache folder
/// is removed.
public struct RequirementsLayer: Sendable {
    /// The requirement lines, comments and blanks removed, sorted, without duplicates.
    public let lines: [String]
    /// The image's Python, `major.minor`.
    public var pythonVersion = "3.11"
    /// The wheel platforms the image can run: manylinux for glibc 2.17 to 2.36 (Debian
    /// bookworm's), x86-64. pip does not widen a `manylinux_2_X` platform to the older
    /// ones by itself, and recent wheels (onnxruntime) are tagged `manylinux_2_27`/`_2_28`.
    public var platforms = ["manylinux2014_x86_64"] + (17...36).map { "manylinux_2_\($0)_x86_64" }
    /// Where the packages go in the image.
    public var imagePath = "/opt/mlpipe/site-packages"
    /// Where installed folders are kept (for a pipeline, `workspace/cache/requirements`).
    public let folder: String

    /// The layer of `lines` (raw lines of one or more requirements files), cached under
    /// `folder`.
    public init(lines: [String], folder: String) {
        self.lines = Self.normalized(lines)
        self.folder = folder
    }

    /// Comments and blanks removed, whitespace trimmed, sorted, de-duplicated.
    public static func normalized(_ lines: [String]) -> [String] {
        var kept: Set<String> = []
        for line in lines {
            var text = Substring(line)
            if let hash = text.firstIndex(of: "#") { text = text[..<hash] }
            let trimmed = text.trimmingWhitespace()
            if !trimmed.isEmpty { kept.insert(trimmed) }
        }
        return kept.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The digest of everything that decides which files pip installs.
    public var key: Digest {
        var json = CanonicalJSONWriter()
        json.beginObject()
        json.key("format")
        json.string("mlpipe-requirements/v1")
        json.key("imagePath")
        json.string(imagePath)
        json.key("lines")
        json.array(lines)
        json.key("platforms")
        json.array(platforms)
        json.key("python")
        json.string(pythonVersion)
        json.endObject()
        return SHA256Hasher.digest(of: json.text.utf8)
    }

    /// pip's arguments after the Python program: install `requirements` (a file) into
    /// `target`.
    public func pipArguments(requirements: String, target: String) -> [String] {
        var arguments = ["-m", "pip", "install", "--target", target, "--no-compile", "--only-binary=:all:",
                         "--python-version", pythonVersion, "--implementation", "cp",
                         "--disable-pip-version-check", "--no-input", "--no-warn-script-location", "--quiet"]
        for platform in platforms { arguments += ["--platform", platform] }
        return arguments + ["-r", requirements]
    }

    /// The installed folder: the cached one, or a new one made by calling `run` with
    /// pip's arguments (the caller prepends the Python program).
    public func installed(run: @Sendable ([String]) async throws -> Void) async throws -> String {
        let done = folder + "/" + key.hex
        if let stamp = try? FileStamp(path: done), stamp.isDirectory {
            BuildCacheSweeper.touch(done)
            return done
        }
        try FileBytes.makeDirectories(folder)
        let work = try FileBytes.temporaryPath(in: folder, for: key.hex)
        do {
            try FileBytes.makeDirectories(work + "/site-packages")
            let requirements = work + "/requirements.txt"
            try FileBytes.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: requirements)
            // No lines: an empty folder; pip would refuse to install nothing.
            if !lines.isEmpty {
                try await run(pipArguments(requirements: requirements, target: work + "/site-packages"))
            }
            FileBytes.removeTree(work + "/site-packages/bin")
            if rename(work, done) != 0 {
                // Another build installed the same lines meanwhile: keep theirs.
                guard let stamp = try? FileStamp(path: done), stamp.isDirectory else {
                    throw ImageError.system("rename into place", done)
                }
                FileBytes.removeTree(work)
            }
        } catch {
            FileBytes.removeTree(work)
            throw error
        }
        return done
    }

    /// The layer: from `cache` when this key, mtime and compression were written before
    /// (without looking at the installed files), else written from the installed folder
    /// (installed first if needed).
    public func layer(cache: LayerCache, writer: LayerWriter,
                      run: @Sendable ([String]) async throws -> Void) async throws -> CachedLayer {
        var json = CanonicalJSONWriter()
        json.beginObject()
        json.key("compression")
        json.string(writer.compression.keyText)
        json.key("format")
        json.string("mlpipe-requirements-layer/v1")
        json.key("mtime")
        json.integer(Int(writer.mtime))
        json.key("requirements")
        json.string(key.description)
        json.endObject()
        let layerKey = SHA256Hasher.digest(of: json.text.utf8)
        if let layer = cache.cached(layerKey) { return CachedLayer(layer: layer, key: layerKey, wasReused: true) }
        let installed = try await installed(run: run)
        let imagePath = self.imagePath
        return try cache.layer(key: layerKey, writer: writer) { () throws(ImageError) in
            var contents = LayerContents()
            try contents.addTree(installed + "/site-packages", at: imagePath)
            return contents.entries
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and line ends.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
