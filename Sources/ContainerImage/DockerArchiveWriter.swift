import Canonical
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes an image as a tar that `docker load` accepts: `manifest.json` (the config and
/// layers by path, with the repository tags), `repositories`, and the blobs under
/// `blobs/sha256/`, which is also an OCI layout (`oci-layout`, `index.json`), as
/// `docker save` has written since Docker 25.
///
/// Layers go in as their blobs (gzip or plain tar; `docker load` detects which). The
/// archive's own entries are sorted, owned by 0, with the given mtime, so the same image
/// and tags give the same archive. Blobs stream through the tar writer's fixed buffer.
/// The file is written under a temporary name beside `path` and renamed into place.
public struct DockerArchiveWriter: Sendable {
    /// The archive to write.
    public let path: String
    /// The mtime of the archive's entries.
    public let mtime: Int64

    /// A writer of the archive at `path`.
    public init(path: String, mtime: Int64) {
        self.path = path
        self.mtime = mtime
    }

    /// Writes `image` tagged with `repositoryTags` (`name:tag` each, as `docker images`
    /// shows them).
    public func write(_ image: OCIImage, repositoryTags: [String]) throws(ImageError) {
        let folder = FileBytes.parent(of: path)
        try FileBytes.makeDirectories(folder)
        let temporary = try FileBytes.temporaryPath(in: folder, for: path)
        let file = try OutputFile(creating: temporary)
        do throws(ImageError) {
            try writeEntries(image, repositoryTags: repositoryTags, to: file)
            try file.close()
            guard rename(temporary, path) == 0 else { throw ImageError.system("rename into place", path) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    private func writeEntries(_ image: OCIImage, repositoryTags: [String], to file: OutputFile) throws(ImageError) {
        let tar = TarWriter(sink: file, mtime: mtime)
        let tags = Set(repositoryTags).sorted()
        var blobs: [(hex: String, source: Blob)] = [(image.configDigest.hex, .bytes(image.configBytes)),
                                                     (image.digest.hex, .bytes(image.manifestBytes))]
        for layer in image.layers where !blobs.contains(where: { $0.hex == layer.digest.hex }) {
            blobs.append((layer.digest.hex, .file(layer.path)))
        }
        blobs.sort { $0.hex < $1.hex }

        try tar.append(.directory("blobs"))
        try tar.append(.directory("blobs/sha256"))
        for blob in blobs {
            switch blob.source {
            case .bytes(let bytes): try tar.append("blobs/sha256/" + blob.hex, bytes: bytes)
            case .file(let source):
                try tar.appendFile("blobs/sha256/" + blob.hex, mode: LayerEntry.fileMode, source: source, expected: nil)
            }
        }
        let ociTags = tags.compactMap { $0.split(separator: ":").last.map(String.init) }
        try tar.append("index.json", bytes: ImageIndex(manifest: image.descriptor, tags: ociTags).canonicalJSON())
        try tar.append("manifest.json", bytes: Self.manifest(image, tags: tags))
        try tar.append("oci-layout", bytes: OCILayoutWriter.marker)
        try tar.append("repositories", bytes: Self.repositories(image, tags: tags))
        try tar.finish()
    }

    private enum Blob {
        case bytes([UInt8])
        case file(String)
    }

    /// `[{"Config":…,"Layers":[…],"RepoTags":[…]}]`.
    static func manifest(_ image: OCIImage, tags: [String]) -> [UInt8] {
        var json = OCIJSONWriter()
        json.beginArray()
        json.beginObject()
        json.key("Config")
        json.string("blobs/sha256/" + image.configDigest.hex)
        json.key("Layers")
        json.strings(image.layers.map { "blobs/sha256/" + $0.digest.hex })
        json.key("RepoTags")
        json.strings(tags)
        json.endObject()
        json.endArray()
        return json.bytes
    }

    /// The legacy `{"name":{"tag":"<id>"}}` map, which `docker load` reads only when
    /// there is no manifest.json; kept for older tools.
    static func repositories(_ image: OCIImage, tags: [String]) -> [UInt8] {
        var byName: [String: [String: String]] = [:]
        for reference in tags {
            guard let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") else { continue }
            byName[String(reference[..<colon]), default: [:]][String(reference[reference.index(after: colon)...])]
                = image.configDigest.hex
        }
        var json = OCIJSONWriter()
        json.beginObject()
        for name in byName.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            json.key(name)
            json.stringMap(byName[name]!)
        }
        json.endObject()
        return json.bytes
    }
}
