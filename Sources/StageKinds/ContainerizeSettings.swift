import ContainerImage
import PipelineSpec

/// The `with:` of a `containerize` stage, as a settings type: `mlpipe lint` checks every
/// key and value from this type alone.
///
/// ```yaml
/// with:
///   package: ${{ stages.package.outputs.package }}   # the folder `kind: serialize` writes
///   template: templates/serving/python               # the serving app (default)
///   base: workspace/base/oci                         # FOLDER, FOLDER:TAG, REGISTRY/REPO:TAG or @sha256:…
///   tags: [latest, "1.4"]                            # tags in the layout (default [latest])
///   labels: { team: ml }                             # added to the image config's Labels
///   docker_archive: true                             # also write image.tar for `docker load`
///   compression: auto                                # auto (default) | gzip | none
///   source: https://git.example.com/ml/iris          # org.opencontainers.image.source
///   version: "3"                                     # the model version in the annotations
///   push:
///     registry: 127.0.0.1:5000
///     repository: ml/iris
///     insecure: false
///     username: ci                                   # with password_secret: basic auth
///     password_secret: REGISTRY_PASSWORD             # secret names, never values
///     token_secret: REGISTRY_TOKEN                   # or a bearer token
/// ```
///
/// Paths are relative to the repository root unless absolute; a relative `base` is
/// looked up under the repository root, and the default is the workspace's
/// `base/oci`, which `make base-image` builds. A base written as
/// `REGISTRY/REPO@sha256:…` or `REGISTRY/REPO:TAG` (the registry a host with a '.' or
/// ':', or localhost) that is not a folder is pulled from that registry into the layer
/// cache, a tag resolved once per run (`ContainerizeBase`).
public struct ContainerizeSettings: KindSettings {
    /// The model package folder.
    public var package: String
    /// The serving app folder.
    public var template: String
    /// The base: a layout (`FOLDER` or `FOLDER:TAG`) or a registry reference; nil for the
    /// workspace's default.
    public var base: String?
    /// Tags in the layout's index, sorted; never empty.
    public var tags: [String]
    public var labels: [String: String]
    public var dockerArchive: Bool
    public var compression: LayerCompression
    /// `org.opencontainers.image.source`; nil to take it from CI's variables.
    public var source: String?
    /// The model version for the annotations; nil to take `metadata.version` of the package.
    public var version: String?
    public var push: Push?

    /// The serving app when `template` is not given.
    public static let defaultTemplate = "templates/serving/python"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case package, template, base, tags, labels, compression, source, version, push
        case dockerArchive = "docker_archive"
    }

    /// Where and how to push.
    public struct Push: Decodable, Sendable, Equatable {
        /// `host[:port]`.
        public var registry: String
        /// `path/name` in the registry.
        public var repository: String
        /// http:// for a registry that is not on the loopback interface.
        public var insecure: Bool
        /// The user of basic auth (not a secret).
        public var username: String?
        /// The name of the secret that holds the password.
        public var passwordSecret: String?
        /// The name of the secret that holds a bearer token.
        public var tokenSecret: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case registry, repository, insecure, username
            case passwordSecret = "password_secret"
            case tokenSecret = "token_secret"
        }

        public init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .object = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a mapping; write "
                                    + "{ registry: HOST[:PORT], repository: PATH/NAME }")
            }
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            registry = try fields.decode(NonEmpty.self, forKey: .registry).text
            guard !registry.contains("/") else {
                throw SettingsError("'\(registry)' is not a registry host; write HOST[:PORT] without a scheme or "
                                    + "path, and the path in `repository`", at: fields.codingPath + [CodingKeys.registry])
            }
            repository = try fields.decode(Repository.self, forKey: .repository).name
            insecure = try fields.decodeIfPresent(Bool.self, forKey: .insecure) ?? false
            username = try fields.decodeIfPresent(NonEmpty.self, forKey: .username)?.text
            passwordSecret = try fields.decodeIfPresent(NonEmpty.self, forKey: .passwordSecret)?.text
            tokenSecret = try fields.decodeIfPresent(NonEmpty.self, forKey: .tokenSecret)?.text
            if passwordSecret != nil && username == nil {
                throw SettingsError("password_secret needs a username; add `username:`",
                                    at: fields.codingPath + [CodingKeys.username])
            }
        }
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        package = try fields.decode(NonEmpty.self, forKey: .package).text
        template = try fields.decodeIfPresent(NonEmpty.self, forKey: .template)?.text ?? Self.defaultTemplate
        base = try fields.decodeIfPresent(NonEmpty.self, forKey: .base)?.text
        let tags = try fields.decodeIfPresent(Tags.self, forKey: .tags)?.tags ?? []
        self.tags = tags.isEmpty ? ["latest"] : Set(tags).sorted()
        labels = try fields.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        dockerArchive = try fields.decodeIfPresent(Bool.self, forKey: .dockerArchive) ?? false
        compression = try fields.decodeIfPresent(Compression.self, forKey: .compression)?.setting ?? .default
        source = try fields.decodeIfPresent(NonEmpty.self, forKey: .source)?.text
        version = try fields.decodeIfPresent(NonEmpty.self, forKey: .version)?.text
        push = try fields.decodeIfPresent(Push.self, forKey: .push)
    }

    /// A non-empty string.
    struct NonEmpty: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let text) = value, !text.isEmpty else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a non-empty string")
            }
            self.text = text
        }
    }

    /// `tags`: a tag or a list of them, each as the OCI distribution spec allows.
    struct Tags: Decodable {
        var tags: [String]

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            let texts: [Value]
            switch value {
            case .string: texts = [value]
            case .array(let items): texts = items
            default: throw SettingsError("\(ValidateSettings.shown(value)) is not a tag or a list of tags")
            }
            tags = try texts.map { item in
                guard case .string(let tag) = item, Self.isTag(tag) else {
                    throw SettingsError("\(ValidateSettings.shown(item)) is not a tag; a tag is 1 to 128 letters, "
                                        + "digits, '_', '.' and '-', not starting with '.' or '-' (latest, 1.4, v2-rc1)")
                }
                return tag
            }
        }

        /// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
        static func isTag(_ tag: String) -> Bool {
            let bytes = Array(tag.utf8)
            guard (1...128).contains(bytes.count) else { return false }
            func word(_ byte: UInt8) -> Bool {
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 95
            }
            return word(bytes[0]) && bytes.dropFirst().allSatisfy { word($0) || $0 == 46 || $0 == 45 }
        }
    }

    /// `push.repository`: lower-case path components as the distribution spec allows.
    struct Repository: Decodable {
        var name: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let name) = value, Self.isRepository(name) else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a repository name; write lower-case "
                                    + "path components of letters, digits and . _ - separated by '/' (ml/iris)")
            }
            self.name = name
        }

        static func isRepository(_ name: String) -> Bool {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            return !parts.isEmpty && parts.allSatisfy { part in
                guard let first = part.utf8.first, let last = part.utf8.last else { return false }
                let alnum: (UInt8) -> Bool = { (48...57).contains($0) || (97...122).contains($0) }
                return alnum(first) && alnum(last)
                    && part.utf8.allSatisfy { alnum($0) || $0 == 46 || $0 == 95 || $0 == 45 }
            }
        }
    }

    /// `compression`: auto, gzip or none.
    struct Compression: Decodable {
        var setting: LayerCompression

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            switch value {
            case .string("auto"): setting = .default
            case .string("gzip"): setting = .gzip(level: 1)
            case .string("none"): setting = .none
            default:
                throw SettingsError("\(ValidateSettings.shown(value)) is not a compression; use auto (gzip unless "
                                    + "the content barely compresses), gzip or none")
            }
        }
    }
}
