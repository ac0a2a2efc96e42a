import Canonical

/// One image as its blobs: the manifest and config (bytes and parsed) and the layers,
/// each with the file its blob is in.
///
/// What `OCILayoutReader` reads from a layout (a base image), what `ImageBuilder`
/// assembles, and what `OCILayoutWriter` and `DockerArchiveWriter` write. The bytes are
/// kept beside the parsed values because the digest is of the bytes: a base's manifest
/// and config are carried over as they were written, never re-encoded.
public struct OCIImage: Sendable {
    public var manifest: ImageManifest
    public var manifestBytes: [UInt8]
    public var config: ImageConfig
    public var configBytes: [UInt8]
    /// The layers in manifest order, base first, each with its blob's file.
    public var layers: [Layer]

    /// An image from its parts; the manifest's descriptors must match the bytes given.
    public init(manifest: ImageManifest, manifestBytes: [UInt8], config: ImageConfig, configBytes: [UInt8],
                layers: [Layer]) {
        self.manifest = manifest
        self.manifestBytes = manifestBytes
        self.config = config
        self.configBytes = configBytes
        self.layers = layers
    }

    /// The manifest's digest: the image's digest, as `NAME@sha256:…` names it.
    public var digest: Digest { SHA256Hasher.digest(of: manifestBytes) }

    /// The manifest's descriptor, as an index lists it.
    public var descriptor: Descriptor {
        Descriptor(mediaType: manifest.mediaType ?? OCIMediaType.manifest, digest: digest,
                   size: Int64(manifestBytes.count))
    }

    /// The config's digest (Docker's "image id").
    public var configDigest: Digest { SHA256Hasher.digest(of: configBytes) }
}
