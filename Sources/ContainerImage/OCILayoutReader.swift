import Canonical
import Foundation

/// Reads an image from an OCI image layout folder (a base image): `oci-layout` →
/// `index.json` → manifest → config and layers.
///
/// The image is chosen by tag (`org.opencontainers.image.ref.name`) or, without one,
/// is the layout's only image; a multi-platform index is followed to its linux/amd64
/// manifest. The manifest and config are checked against their digests (they are
/// small); a layer blob is checked for its presence and size only, since reading a
/// gigabyte base layer on every build would cost what the layer cache saves. Every
/// failure says which file is wrong and how such a layout is made.
public struct OCILayoutReader: Sendable {
    /// The layout's folder.
    public let path: String

    /// A reader of the layout at `path`.
    public init(path: String) {
        self.path = path
    }

    /// How a usable layout is made, for the end of error messages.
    static let remedy = "make one with `make base-image`, `skopeo copy docker://IMAGE oci:DIR:TAG` or `umoci init`"

    /// The tags of the layout's images, sorted.
    public func tags() throws(ImageError) -> [String] {
        try index().manifests.compactMap(\.refName).sorted()
    }

    /// The image tagged `tag`, or the only image when `tag` is nil.
    public func image(tag: String? = nil) throws(ImageError) -> OCIImage {
        let index = try index()
        var descriptor = try select(tag, from: index)
        var manifestBytes = try blob(descriptor, what: "manifest")
        if Self.isIndex(descriptor.mediaType) {
            let nested = try ImageIndex.parse(manifestBytes, origin: blobPath(descriptor.digest))
            guard let chosen = nested.manifests.first(where: {
                $0.platform?.os == "linux" && $0.platform?.architecture == "amd64"
            }) else {
                let platforms = nested.manifests.compactMap { $0.platform.map { "\($0.os)/\($0.architecture)" } }
                throw ImageError(.notALayout, "the image \(describe(tag)) in '\(path)' has no linux/amd64 manifest "
                                 + "(it has \(platforms.joined(separator: ", "))); use an amd64 base image", path: path)
            }
            descriptor = chosen
            manifestBytes = try blob(descriptor, what: "manifest")
        }
        let manifest = try ImageManifest.parse(manifestBytes, origin: blobPath(descriptor.digest))
        let configBytes = try blob(manifest.config, what: "config")
        let config = try ImageConfig.parse(configBytes, origin: blobPath(manifest.config.digest))
        guard config.os == "linux", config.architecture == "amd64" else {
            throw ImageError(.unsupported, "the base image \(describe(tag)) in '\(path)' is for "
                             + "\(config.os)/\(config.architecture); mlpipe builds linux/amd64 images, "
                             + "so use an amd64 base", path: path)
        }
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw ImageError(.corrupt, "the base image \(describe(tag)) in '\(path)' lists "
                             + "\(manifest.layers.count) layers but its config has \(config.rootfs.diffIDs.count) "
                             + "diff_ids; rebuild it", path: path)
        }
        var layers: [Layer] = []
        for (descriptor, diffID) in zip(manifest.layers, config.rootfs.diffIDs) {
            let file = blobPath(descriptor.digest)
            guard let stamp = try? FileStamp(path: file), stamp.isRegularFile else {
                throw ImageError(.notALayout, "the layer \(descriptor.digest) of \(describe(tag)) is missing from "
                                 + "'\(path)' (no file \(file)); the layout is incomplete: copy it again or "
                                 + Self.remedy, path: file)
            }
            guard stamp.size == descriptor.size else {
                throw ImageError(.corrupt, "the layer blob \(file) has \(stamp.size) bytes, but its manifest says "
                                 + "\(descriptor.size); the layout is damaged: copy it again", path: file)
            }
            layers.append(Layer(mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size,
                                diffID: diffID, path: file))
        }
        return OCIImage(manifest: manifest, manifestBytes: manifestBytes, config: config, configBytes: configBytes,
                        layers: layers)
    }

    /// `index.json`, after checking `oci-layout`.
    func index() throws(ImageError) -> ImageIndex {
        let marker = path + "/oci-layout"
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw ImageError(.notFound, "the base image layout '\(path)' does not exist; " + Self.remedy, path: path)
        }
        guard let bytes = try? FileBytes.read(marker, limit: 4096) else {
            throw ImageError(.notALayout, "'\(path)' is not an OCI image layout: it has no oci-layout file; "
                             + Self.remedy, path: marker)
        }
        struct Marker: Decodable { var imageLayoutVersion: String }
        guard let version = try? JSONDecoder().decode(Marker.self, from: Data(bytes)).imageLayoutVersion,
              version.hasPrefix("1.") else {
            throw ImageError(.notALayout, "'\(marker)' is not an OCI layout marker (expected "
                             + "{\"imageLayoutVersion\":\"1.0.0\"}); " + Self.remedy, path: marker)
        }
        let indexPath = path + "/index.json"
        let indexBytes: [UInt8]
        do {
            indexBytes = try FileBytes.read(indexPath)
        } catch {
            throw ImageError(.notALayout, "'\(path)' is not a complete OCI image layout: it has no index.json; "
                             + Self.remedy, path: indexPath, cause: error)
        }
        return try ImageIndex.parse(indexBytes, origin: indexPath)
    }

    private func select(_ tag: String?, from index: ImageIndex) throws(ImageError) -> Descriptor {
        if let tag {
            if let found = index.manifests.first(where: { $0.refName == tag }) { return found }
            let tags = index.manifests.compactMap(\.refName).sorted()
            throw ImageError(.notFound, "the layout '\(path)' has no image tagged '\(tag)'; its tags are: "
                             + (tags.isEmpty ? "none" : tags.joined(separator: ", ")), path: path)
        }
        guard index.manifests.count == 1, let only = index.manifests.first else {
            let tags = index.manifests.compactMap(\.refName).sorted()
            throw ImageError(.notFound, "the layout '\(path)' has \(index.manifests.count) images; name one as "
                             + "\(path):TAG (tags: \(tags.isEmpty ? "none" : tags.joined(separator: ", ")))",
                             path: path)
        }
        return only
    }

    /// A small blob's bytes, checked against its descriptor's digest and size.
    private func blob(_ descriptor: Descriptor, what: String) throws(ImageError) -> [UInt8] {
        let file = blobPath(descriptor.digest)
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(file)
        } catch {
            throw ImageError(.notALayout, "the \(what) \(descriptor.digest) is missing from '\(path)' (no file "
                             + "\(file)); the layout is incomplete: copy it again or " + Self.remedy,
                             path: file, cause: error)
        }
        guard Int64(bytes.count) == descriptor.size, SHA256Hasher.digest(of: bytes) == descriptor.digest else {
            throw ImageError(.corrupt, "the \(what) blob \(file) does not match its digest or size; "
                             + "the layout is damaged: copy it again", path: file)
        }
        return bytes
    }

    /// Where the blob `digest` is.
    public func blobPath(_ digest: Digest) -> String {
        path + "/blobs/sha256/" + digest.hex
    }

    private func describe(_ tag: String?) -> String {
        tag.map { "'\($0)'" } ?? "(untagged)"
    }

    static func isIndex(_ mediaType: String) -> Bool {
        mediaType == OCIMediaType.index || mediaType == OCIMediaType.dockerManifestList
    }
}
