import Canonical
import Foundation

/// One image of an OCI image layout, as a push needs it: the manifest's exact bytes and
/// media type, and the blobs (config and layers) it names with their files.
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

/// Reads `index.json` -> manifest -> blobs of an OCI image layout folder, checking what a
/// push relies on: the manifest's bytes match its digest, and every blob file is there
/// with the size its descriptor gives. Blob contents are not hashed here: the registry
/// checks each upload against its digest, and a blob the registry already has is never
/// read.
enum RegistryLayoutReader {
    /// The annotation `index.json` names an image by (`umoci`, `skopeo`, `oras` write it).
    static let refNameAnnotation = "org.opencontainers.image.ref.name"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

    private struct Descriptor: Decodable {
        var mediaType: String?
        var digest: String
        var size: Int64
        var annotations: [String: String]?
    }

    private struct Index: Decodable {
        var manifests: [Descriptor]
    }

    private struct Manifest: Decodable {
        var mediaType: String?
        var config: Descriptor
        var layers: [Descriptor]
    }

    /// The image of `layout` that `image` names: a tag (the ref.name annotation), a manifest
    /// digest (`sha256:…`), or nil when the layout holds exactly one image.
    static func read(layout: URL, image: String?) throws -> RegistryLayoutImage {
        let root = layout.path
        guard FileManager.default.fileExists(atPath: layout.appendingPathComponent("oci-layout").path) else {
            throw RegistryError.layout(root, "not an OCI image layout (no oci-layout file); build one with "
                                           + "containerize, or `skopeo copy ... oci:\(root):TAG`")
        }
        let index: Index = try decode(Index.self, at: layout.appendingPathComponent("index.json"), root: root)
        let chosen = try select(image, from: index.manifests, root: root)
        guard let digest = Digest(parsing: chosen.digest) else {
            throw RegistryError.layout(root, "index.json names '\(chosen.digest)', which is not a sha256 digest")
        }
        if let type = chosen.mediaType, type == OCIMediaType.index || type == dockerManifestList {
            throw RegistryError.layout(root, "image \(digest) is a multi-platform index; push one platform's "
                                           + "manifest (pushing indexes is not supported yet)")
        }
        let manifestPath = blobPath(layout, digest)
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        } catch {
            throw RegistryError.layout(root, "the manifest blob \(digest) is missing (\(manifestPath))")
        }
        guard SHA256Hasher.digest(of: bytes) == digest else {
            throw RegistryError.layout(root, "the manifest blob \(digest) does not match its digest; the layout "
                                           + "is damaged, rebuild it")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw RegistryError.layout(root, "the manifest \(digest) is not an image manifest (no config or layers)")
        }
        let mediaType = manifest.mediaType ?? chosen.mediaType ?? OCIMediaType.manifest
        guard mediaType == OCIMediaType.manifest || mediaType == dockerManifest else {
            throw RegistryError.layout(root, "the manifest \(digest) has media type '\(mediaType)'; expected "
                                           + "\(OCIMediaType.manifest) or \(dockerManifest)")
        }
        var blobs: [RegistryLayoutImage.Blob] = []
        for descriptor in manifest.layers + [manifest.config] {
            let blob = try checkedBlob(descriptor, layout: layout, root: root)
            if !blobs.contains(where: { $0.digest == blob.digest }) { blobs.append(blob) }
        }
        return RegistryLayoutImage(manifestDigest: digest, manifestMediaType: mediaType, manifest: bytes, blobs: blobs)
    }

    private static func select(_ image: String?, from manifests: [Descriptor], root: String) throws -> Descriptor {
        let names = manifests.compactMap { $0.annotations?[refNameAnnotation] }
        let available = names.isEmpty ? manifests.map(\.digest) : names
        guard let image else {
            guard manifests.count == 1 else {
                throw RegistryError.layout(root, "index.json holds \(manifests.count) images; name one of: "
                                               + available.joined(separator: ", "))
            }
            return manifests[0]
        }
        let match: Descriptor?
        if let digest = Digest(parsing: image) {
            match = manifests.first { Digest(parsing: $0.digest) == digest }
        } else {
            match = manifests.first { $0.annotations?[refNameAnnotation] == image }
        }
        guard let match else {
            throw RegistryError.layout(root, "index.json has no image '\(image)'; it has: "
                                           + (available.isEmpty ? "none" : available.joined(separator: ", ")))
        }
        return match
    }

    private static func checkedBlob(_ descriptor: Descriptor, layout: URL, root: String) throws -> RegistryLayoutImage.Blob {
        guard let digest = Digest(parsing: descriptor.digest) else {
            throw RegistryError.layout(root, "the manifest names blob '\(descriptor.digest)', which is not a "
                                           + "sha256 digest")
        }
        let path = blobPath(layout, digest)
        let size: Int64
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        } catch {
            throw RegistryError.layout(root, "blob \(digest) is missing (\(path))")
        }
        guard size == descriptor.size else {
            throw RegistryError.layout(root, "blob \(digest) has \(size) bytes but the manifest says "
                                           + "\(descriptor.size); the layout is damaged, rebuild it")
        }
        return RegistryLayoutImage.Blob(digest: digest, size: size, path: path)
    }

    static func blobPath(_ layout: URL, _ digest: Digest) -> String {
        layout.appendingPathComponent("blobs/sha256/" + digest.hex).path
    }

    private static func decode<T: Decodable>(_ type: T.Type, at url: URL, root: String) throws -> T {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RegistryError.layout(root, "cannot read \(url.lastPathComponent): \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw RegistryError.layout(root, "\(url.lastPathComponent) is not a valid OCI index: \(error)")
        }
    }
}
