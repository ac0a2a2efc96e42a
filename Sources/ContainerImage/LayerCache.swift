import Canonical
import Foundation

/// Layers kept by the digest of their inputs, so that an unchanged layer is never
/// written (nor compressed) again.
///
/// A layer's key is the SHA-256 of a canonical JSON document that names every input
/// that can change its bytes, and nothing else:
/// - `format`: this key's own version (`mlpipe-layer/v1`); bump it when the writer's
///   output changes for the same inputs;
/// - `entries`: for each entry in order, its path, type, mode and content — a file's
///   SHA-256 (from `FileDigestMemo`, so an unchanged file is not read), a link's target;
///   never a file's own time, owner or source path, which do not reach the layer;
/// - `mtime`: the one time every entry carries;
/// - `compression`: the setting (`auto-1`, `gzip-6`, `none`), not its outcome.
///
/// A hit costs the key plus two `stat`s: the key's record (`keys/<hex>.json`, the blob's
/// digest, size, diff_id and media type) and its blob (`blobs/sha256/<hex>`, which must
/// still have the recorded size). A miss writes the blob with `LayerWriter` to a
/// temporary name, renames it into place, then writes the record, so an interrupted
/// build leaves no record that points at half a blob.
///
/// ```
/// <folder>/keys/<key hex>.json
/// <folder>/blobs/sha256/<blob hex>
/// <folder>/digests/…              the file-digest memo
/// ```
public struct LayerCache: Sendable {
    /// The cache's folder (for a pipeline, `workspace/cache/layers`).
    public let folder: String

    /// A cache under `folder`, created when first written.
    public init(folder: String) {
        self.folder = folder
    }

    /// The memo of file digests that keys are computed with.
    public var memo: FileDigestMemo { FileDigestMemo(folder: folder + "/digests") }

    /// The layer of `contents` written by `writer`: the cached one when its key is known
    /// and its blob is present, else a new one.
    public func layer(for contents: LayerContents, writer: LayerWriter) throws(ImageError) -> CachedLayer {
        let entries = contents.entries
        let key = try self.key(for: entries, writer: writer)
        return try layer(key: key, writer: writer) { () throws(ImageError) in entries }
    }

    /// The layer with key `key`: the cached one, or the one `writer` writes from what
    /// `entries` returns (called only on a miss). For a caller that knows a cheaper key
    /// than the files' digests: the requirements layer is keyed by its requirement lines.
    public func layer(key: Digest, writer: LayerWriter,
                      entries: () throws(ImageError) -> [LayerEntry]) throws(ImageError) -> CachedLayer {
        if let layer = cached(key) { return CachedLayer(layer: layer, key: key, wasReused: true) }
        let blobs = folder + "/blobs/sha256"
        try FileBytes.makeDirectories(blobs)
        let temporary = try FileBytes.temporaryPath(in: blobs, for: key.hex)
        var layer = try writer.write(try entries(), to: temporary)
        let path = blobs + "/" + layer.digest.hex
        guard rename(temporary, path) == 0 else {
            let error = ImageError.system("rename into place", path)
            unlink(temporary)
            throw error
        }
        layer.path = path
        try FileBytes.writeAtomically(Self.record(layer), to: recordPath(key))
        return CachedLayer(layer: layer, key: key, wasReused: false)
    }

    /// The key of `entries` written by `writer` (see the type's documentation).
    public func key(for entries: [LayerEntry], writer: LayerWriter) throws(ImageError) -> Digest {
        let memo = self.memo
        var rows: [[String]] = []
        rows.reserveCapacity(entries.count)
        for entry in entries {
            let mode = String(entry.mode, radix: 8)
            switch entry.content {
            case .directory:
                rows.append([entry.path, "dir", mode, ""])
            case .symlink(let target):
                rows.append([entry.path, "symlink", mode, target])
            case .file(let source, let stamp):
                rows.append([entry.path, "file", mode, try memo.digest(of: source, stamp: stamp).description])
            }
        }
        var json = OCIJSONWriter()
        json.beginObject()
        json.key("compression")
        json.string(writer.compression.keyText)
        json.key("entries")
        json.beginArray()
        for row in rows { json.strings(row) }
        json.endArray()
        json.key("format")
        json.string("mlpipe-layer/v1")
        json.key("mtime")
        json.integer(writer.mtime)
        json.endObject()
        return SHA256Hasher.digest(of: json.text.utf8)
    }

    /// The cached layer of `key`, if its record and blob are both there.
    func cached(_ key: Digest) -> Layer? {
        guard let bytes = try? FileBytes.read(recordPath(key), limit: 4096),
              let record = try? JSONDecoder().decode(Record.self, from: Data(bytes)) else { return nil }
        let path = folder + "/blobs/sha256/" + record.digest.hex
        guard let stamp = try? FileStamp(path: path), stamp.isRegularFile, stamp.size == record.size else { return nil }
        BuildCacheSweeper.touch(recordPath(key))
        return Layer(mediaType: record.mediaType, digest: record.digest, size: record.size,
                     diffID: record.diffID, path: path)
    }

    private func recordPath(_ key: Digest) -> String {
        folder + "/keys/" + key.hex + ".json"
    }

    /// What a key's record holds.
    struct Record: Codable {
        var diffID: Digest
        var digest: Digest
        var mediaType: String
        var size: Int64
    }

    static func record(_ layer: Layer) -> [UInt8] {
        var json = CanonicalJSONWriter()
        json.beginObject()
        json.key("diffID")
        json.string(layer.diffID.description)
        json.key("digest")
        json.string(layer.digest.description)
        json.key("mediaType")
        json.string(layer.mediaType)
        json.key("size")
        json.integer(Int(layer.size))
        json.endObject()
        return Array((json.text + "\n").utf8)
    }
}

/// A layer from `LayerCache`, with its key and whether it was reused.
public struct CachedLayer: Sendable, Hashable {
    public var layer: Layer
    /// The digest of the layer's inputs.
    public var key: Digest
    /// True when the layer came from the cache: nothing was read, written or compressed.
    public var wasReused: Bool
}
