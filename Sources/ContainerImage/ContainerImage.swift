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
}
