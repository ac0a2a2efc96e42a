import Canonical

/// A written layer: its blob's media type, digest and size, and the digest of its
/// uncompressed tar (`diff_id`, what the image config lists in `rootfs`).
///
/// For an uncompressed layer (`OCIMediaType.layerTar`) the digest and the diff_id are
/// the same. `path` is where the blob is on this machine (in the layer cache, or in a
/// base image's layout).
public struct Layer: Sendable, Hashable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var diffID: Digest
    /// The blob's file.
    public var path: String

    /// A layer from its parts.
    public init(mediaType: String, digest: Digest, size: Int64, diffID: Digest, path: String) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.diffID = diffID
        self.path = path
    }

    /// The descriptor a manifest lists for it.
    public var descriptor: Descriptor {
        Descriptor(mediaType: mediaType, digest: digest, size: size)
    }
}
