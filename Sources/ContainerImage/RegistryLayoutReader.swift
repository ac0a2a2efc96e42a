import Canonical
import Foundation

/// One image of an OCI image layout, as a push needs it: the manifest's exact bytes and
/// media type, and the blobs (layers and config) it names, each with its file.
struct RegistryLayoutImage: Sendable {
    struct Blob: Sendable, Hashable {
        var digest: Digest
        var size: Int64
        var path: String
    }

    var manifestDigest: Digest
    var manifestMediaType: String
    var manifest: [UInt8]
    /// Layers in manifest order, then the config; each digest once.
    var blobs: [Blob]
}

/// The image of a layout that a push sends, read with ``OCILayoutReader`` (which checks
/// the manifest and config against their digests, and each layer file's presence and
/// size: the registry checks each upload against its digest, and a layer the registry
/// already has is never read).
enum RegistryLayoutReader {
    /// The image of `layout` that `image` names: a tag (the ref.name annotation in
    /// index.json), a manifest digest (`sha256:…`) listed there, or nil when the layout
    /// holds one image. A layout problem is a ``RegistryError`` with code `.invalidLayout`
    /// wrapping the ``ImageError`` that says which file is wrong.
    static func read(layout: URL, image: String?) throws -> RegistryLayoutImage {
        let reader = OCILayoutReader(path: layout.path)
        do {
            let read = try reader.image(tag: try tag(naming: image, in: reader))
            let layers = read.layers.map { RegistryLayoutImage.Blob(digest: $0.digest, size: $0.size, path: $0.path) }
            let config = RegistryLayoutImage.Blob(digest: read.configDigest, size: Int64(read.configBytes.count),
                                                  path: reader.blobPath(read.configDigest))
            return RegistryLayoutImage(manifestDigest: read.digest,
                                       manifestMediaType: read.manifest.mediaType ?? OCIMediaType.manifest,
                                       manifest: read.manifestBytes, blobs: deduplicated(layers + [config]))
        } catch let error as ImageError {
            throw RegistryError(.invalidLayout, error.description, cause: error)
        }
    }

    /// The tag under which `image` is listed: itself, or for a digest the ref.name of the
    /// index entry with that digest (nil for the only, untagged image).
    private static func tag(naming image: String?, in reader: OCILayoutReader) throws -> String? {
        guard let image, let digest = Digest(parsing: image) else { return image }
        let manifests = try reader.index().manifests
        guard let entry = manifests.first(where: { $0.digest == digest }) else {
            throw RegistryError(.invalidLayout, "the layout '\(reader.path)' lists no image \(digest) in index.json; "
                                    + "it lists: " + manifests.map(\.digest.description).joined(separator: ", "))
        }
        if let name = entry.refName { return name }
        guard manifests.count == 1 else {
            throw RegistryError(.invalidLayout, "the image \(digest) in '\(reader.path)' has no tag in index.json; "
                                    + "push it by tag, or from a layout that holds only it")
        }
        return nil
    }

    private static func deduplicated(_ blobs: [RegistryLayoutImage.Blob]) -> [RegistryLayoutImage.Blob] {
        var seen = Set<Digest>()
        return blobs.filter { seen.insert($0.digest).inserted }
    }
}
