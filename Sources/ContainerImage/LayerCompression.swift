/// How a layer's tar is stored: gzip at a level, uncompressed, or chosen from its content.
///
/// `auto` is the default. Model weights barely compress (float32 tensors shrink by 5 to
/// 10% at gzip -1) while deflate reads them at 30 to 100 MB/s, so a 1 GiB model took half
/// a minute to save a few percent; `auto` samples the large files (`CompressionProbe`)
/// and stores a layer whose estimated saving is under 10% as plain tar
/// (`application/vnd.oci.image.layer.v1.tar`, which registries, containerd, Docker,
/// skopeo and umoci all accept), and gzips the rest. The choice depends only on the
/// bytes, so it is the same on every machine.
public enum LayerCompression: Sendable, Hashable {
    /// gzip at zlib `level` (1 fastest … 9 smallest).
    case gzip(level: Int)
    /// Plain tar.
    case none
    /// gzip at `level` unless the content would shrink by less than 10%.
    case auto(level: Int)

    /// The default: `auto` at level 1, the speed ko and crane use for big layers.
    public static let `default` = LayerCompression.auto(level: 1)

    /// The setting's text as it enters a layer's cache key.
    var keyText: String {
        switch self {
        case .gzip(let level): "gzip-\(level)"
        case .none: "none"
        case .auto(let level): "auto-\(level)"
        }
    }

    /// The gzip level to use for `entries`, or nil to store them uncompressed.
    func level(for entries: [LayerEntry]) throws(ImageError) -> Int? {
        switch self {
        case .gzip(let level): return level
        case .none: return nil
        case .auto(let level):
            return try CompressionProbe(level: level).worthCompressing(entries) ? level : nil
        }
    }
}
