/// Where a pipeline's remote cache lives: `remote:` at the top of a pipeline file, or
/// `--remote URL` / `MLPIPE_REMOTE`, which take precedence.
///
///     remote: s3://team-cache/mlpipe?endpoint=http://127.0.0.1:8333&region=us-east-1
///     remote:
///       url: s3://team-cache/mlpipe
///       access_key_id: S3_KEY          # names of declared secrets
///       secret_access_key: S3_SECRET
///
/// Without secrets, credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
/// and `AWS_SESSION_TOKEN`. The URL never holds credentials.
public struct RemoteSetting: Sendable, Hashable {
    /// The parsed URL.
    public var url: RemoteURL
    /// Where it is written; nil for `--remote` and `MLPIPE_REMOTE`.
    public var location: SourceLocation?
    /// The declared secret that holds the access key id, if any.
    public var accessKeyIDSecret: String?
    /// The declared secret that holds the secret access key, if any.
    public var secretAccessKeySecret: String?
    /// The declared secret that holds a session token, if any.
    public var sessionTokenSecret: String?

    /// A setting; secrets are names under the pipeline's `secrets:`.
    public init(url: RemoteURL, location: SourceLocation? = nil, accessKeyIDSecret: String? = nil,
                secretAccessKeySecret: String? = nil, sessionTokenSecret: String? = nil) {
        self.url = url
        self.location = location
        self.accessKeyIDSecret = accessKeyIDSecret
        self.secretAccessKeySecret = secretAccessKeySecret
        self.sessionTokenSecret = sessionTokenSecret
    }

    /// The secrets the setting names.
    public var secretNames: [String] {
        [accessKeyIDSecret, secretAccessKeySecret, sessionTokenSecret].compactMap { $0 }
    }
}

/// `s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]`, parsed and checked.
///
/// The one home of the remote URL's form: the pipeline loader reports a bad one at its
/// line and column, and `--remote` / `MLPIPE_REMOTE` are checked by the same parser.
public struct RemoteURL: Sendable, Hashable, CustomStringConvertible {
    /// The bucket's name.
    public var bucket: String
    /// The key prefix, without leading or trailing `/`; may be empty.
    public var prefix: String
    /// `http(s)://host[:port]`, or nil for AWS's regional endpoint.
    public var endpoint: String?
    /// `us-east-1` unless given.
    public var region: String
    /// The text as written.
    public var text: String

    /// Parses `text`; the error is a sentence that says what to write instead.
    public init(parsing text: String) throws(RemoteURLError) {
        self.text = text
        let example = "write e.g. s3://team-cache/mlpipe?endpoint=http://127.0.0.1:8333&region=us-east-1"
        guard text.hasPrefix("s3://") else {
            throw RemoteURLError("remote '\(text)' is not an s3:// URL; \(example)")
        }
        var rest = Substring(text.dropFirst(5))
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: true)
        guard let first = parts.first, Self.isBucketName(first) else {
            throw RemoteURLError("remote '\(text)' has no valid bucket name (3-63 lowercase letters, digits, '.' and '-'); \(example)")
        }
        bucket = String(first)
        prefix = parts.dropFirst().joined(separator: "/")
        endpoint = nil
        region = "us-east-1"
        for pair in query.split(separator: "&") {
            let field = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(field[0])
            let value = field.count > 1 ? String(field[1]).removingPercentEscapes : ""
            switch name {
            case "endpoint":
                guard value.hasPrefix("http://") || value.hasPrefix("https://"), value.count > 8 else {
                    throw RemoteURLError("remote '\(text)': endpoint '\(value)' is not an http:// or https:// URL; \(example)")
                }
                endpoint = value
            case "region":
                guard !value.isEmpty else { throw RemoteURLError("remote '\(text)': region is empty; \(example)") }
                region = value
            default:
                throw RemoteURLError("remote '\(text)': unknown setting '\(name)'; the URL takes endpoint= and region=")
            }
        }
    }

    /// `s3://bucket/prefix` (without the query), for messages.
    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    static func isBucketName(_ name: Substring) -> Bool {
        (3...63).contains(name.count) && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
        }
    }
}

/// Why a remote URL was refused, as a sentence with the fix.
public struct RemoteURLError: Error, Sendable, CustomStringConvertible {
    /// The sentence.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

extension String {
    /// `%3A` → `:`; text that is not valid percent-encoding is kept as written.
    fileprivate var removingPercentEscapes: String {
        var bytes: [UInt8] = []
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
