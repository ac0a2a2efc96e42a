/// OCI media types used across the target.
public enum OCIMediaType {
    /// An image manifest.
    public static let manifest = "application/vnd.oci.image.manifest.v1+json"
    /// An image index.
    public static let index = "application/vnd.oci.image.index.v1+json"
    /// An image config.
    public static let config = "application/vnd.oci.image.config.v1+json"
    /// A gzip-compressed layer.
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    /// An uncompressed layer.
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    /// Docker's schema 2 manifest, which a base image pulled by docker tools may have.
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    /// Docker's manifest list.
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    /// Docker's gzip layer.
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    /// Whether a layer of this media type is gzip-compressed.
    public static func isGzipLayer(_ mediaType: String) -> Bool {
        mediaType == layerGzip || mediaType == dockerLayerGzip
    }
}

/// Annotation keys of the OCI image spec that the target writes.
public enum OCIAnnotation {
    /// A tag, in an index.
    public static let refName = "org.opencontainers.image.ref.name"
    /// The commit the image was built from.
    public static let revision = "org.opencontainers.image.revision"
    /// Where the source is (a repository URL or path).
    public static let source = "org.opencontainers.image.source"
    /// When the image was made (RFC 3339; the commit's time, for reproducibility).
    public static let created = "org.opencontainers.image.created"
    /// The image's title: here, the model's name.
    public static let title = "org.opencontainers.image.title"
    /// The image's version: here, the model's version.
    public static let version = "org.opencontainers.image.version"
}
