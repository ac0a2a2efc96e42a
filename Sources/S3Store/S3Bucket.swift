/// Where a remote lives: an endpoint, a region, a bucket and a key prefix.
///
/// Requests use path-style URLs (`ENDPOINT/BUCKET/PREFIX/KEY`), which every S3-API
/// server answers (SeaweedFS, MinIO, Ceph) and which need no DNS per bucket. Without an
/// endpoint, AWS's regional one is used.
public struct S3Bucket: Sendable, Hashable, CustomStringConvertible {
    /// `http://127.0.0.1:8333`, without a trailing slash.
    public var endpoint: String
    /// Signed into every request (`us-east-1` for most S3-API servers).
    public var region: String
    /// The bucket's name.
    public var bucket: String
    /// Keys are put under it (no leading or trailing slash; may be empty).
    public var prefix: String

    /// A bucket; a nil endpoint means `https://s3.REGION.amazonaws.com`.
    public init(bucket: String, prefix: String = "", endpoint: String? = nil, region: String = "us-east-1") {
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
        self.region = region
        var base = endpoint ?? "https://s3.\(region).amazonaws.com"
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
    }

    /// `s3://bucket/prefix`, as the user wrote it, for messages.
    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    /// The object key of `name` under the prefix.
    func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }

    /// `s3://bucket/prefix/name`, for messages.
    func display(_ name: String) -> String { "s3://\(bucket)/" + key(name) }

    /// `host[:port]` of the endpoint, as the `Host` header and the signature carry it.
    var host: String {
        var rest = Substring(endpoint)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let authority = rest.prefix { $0 != "/" }
        if endpoint.hasPrefix("http://"), authority.hasSuffix(":80") { return String(authority.dropLast(3)) }
        if endpoint.hasPrefix("https://"), authority.hasSuffix(":443") { return String(authority.dropLast(4)) }
        return String(authority)
    }

    /// The endpoint's path (usually empty), then `/bucket`, then the key.
    func path(ofKey key: String?) -> String {
        var rest = Substring(endpoint)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let base = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? ""
        return base + "/" + bucket + (key.map { "/" + $0 } ?? "")
    }

    /// `http://host:port`.
    var origin: String {
        let scheme = endpoint.hasPrefix("http://") ? "http://" : "https://"
        var rest = Substring(endpoint)
        if let range = rest.range(of: "://") { rest = rest[range.upperBound...] }
        return scheme + rest.prefix { $0 != "/" }
    }
}
