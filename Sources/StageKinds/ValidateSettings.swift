import ModelFormats
import PipelineSpec

/// The `with:` of a `validate` stage, as a settings type: `mlpipe lint` checks every key
/// and value from this type alone, and the stage gets it decoded and checked.
///
/// ```yaml
/// with:
///   model: ${{ stages.train.outputs.model }}   # a file or a folder; relative to the repository
///   format: onnx                               # default auto; see ExpectedFormat.names
///   allow: [mypkg.models.Net, mypkg.layers.*]  # a global, or a list of them
///   max_size: 200MB                            # bytes, or a number with B, kB, MB, GB, KiB, MiB, GiB
///   sha256: sha256:9f86d0…                     # with or without the sha256: prefix
///   signature:
///     inputs:  [{ name: x, dtype: float32, shape: [-1, 4] }]
///     outputs: [{ name: y, dtype: float32, shape: [-1, 3] }]
/// ```
///
/// Each value is read by a small type of its own that throws a `SettingsError` naming the
/// bad value and what would be accepted, so the problem is reported at that value's line
/// and column, by lint or, for a value from an expression, when the stage starts.
public struct ValidateSettings: KindSettings {
    /// The model file or folder; relative to the repository root unless absolute.
    public var model: String
    /// Globals added to the scanner's default allow-list.
    public var allow: [String]
    /// Format, size, digest and signature the model must have.
    public var expectations: ModelValidator.Expectations

    /// `CaseIterable`, so that a did-you-mean chooses among all keys even when the decode
    /// stops early (see `SettingsDecoder`).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, format, allow, sha256, signature
        case maxSize = "max_size"
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let settings = try decoder.container(keyedBy: CodingKeys.self)
        model = try settings.decode(ModelPath.self, forKey: .model).path
        var expectations = ModelValidator.Expectations()
        expectations.format = try settings.decodeIfPresent(FormatName.self, forKey: .format)?.format ?? .auto
        allow = try settings.decodeIfPresent(AllowList.self, forKey: .allow)?.globals ?? []
        expectations.maxSize = try settings.decodeIfPresent(Size.self, forKey: .maxSize)?.bytes
        expectations.sha256 = try settings.decodeIfPresent(SHA256.self, forKey: .sha256)?.digest
        expectations.signature = try settings.decodeIfPresent(SignatureSetting.self, forKey: .signature)?.signature
        self.expectations = expectations
    }

    /// `model`: a non-empty path.
    struct ModelPath: Decodable {
        var path: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let path) = value, !path.isEmpty else {
                throw SettingsError("\(shown(value)) is not a path; name the model file or folder, "
                                    + "for example ${{ stages.train.outputs.model }}")
            }
            self.path = path
        }
    }

    /// `format`: a name of `ExpectedFormat.names`.
    struct FormatName: Decodable {
        var format: ExpectedFormat

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let name) = value, let format = ExpectedFormat(name) else {
                throw SettingsError("\(shown(value)) is not a model format; use one of "
                                    + ExpectedFormat.names.joined(separator: ", "))
            }
            self.format = format
        }
    }

    /// `allow`: a global (`module.name`, `module.*`) or a list of them.
    struct AllowList: Decodable {
        var globals: [String]

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            switch value {
            case .null: globals = []
            case .string: globals = [try decoder.singleValueContainer().decode(Global.self).name]
            case .array: globals = try decoder.singleValueContainer().decode([Global].self).map(\.name)
            default:
                throw SettingsError("\(shown(value)) is not a global or a list of globals; "
                                    + "write for example [mypkg.models.Net, mypkg.layers.*]")
            }
        }
    }

    /// One entry of `allow`.
    struct Global: Decodable {
        var name: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let name) = value else {
                throw SettingsError("\(shown(value)) is not a global; write module.name or module.*")
            }
            if let problem = ScanPolicy.problem(withEntry: name) { throw SettingsError(problem) }
            self.name = name
        }
    }

    /// `max_size`: bytes, or a number with a unit.
    struct Size: Decodable {
        var bytes: Int64

        /// Units a size may carry: decimal as disk makers and `ls -h --si` count, binary
        /// as memory is counted.
        static let units: [String: Int64] = [
            "b": 1, "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "tb": 1_000_000_000_000,
            "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
        ]

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            let problem = SettingsError("\(shown(value)) is not a size; write bytes (1048576) or a number with a "
                                        + "unit: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB (200MB, 1.5GiB)")
            switch value {
            case .int(let bytes) where bytes >= 0:
                self.bytes = Int64(bytes)
            case .string(let text):
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                let digits = trimmed.prefix { $0.isNumber || $0 == "." }
                let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
                guard let number = Double(digits), number >= 0,
                      let scale = unit.isEmpty ? 1 : Self.units[unit] else { throw problem }
                let bytes = (number * Double(scale)).rounded(.down)
                guard bytes < 9.2e18 else { throw problem }
                self.bytes = Int64(bytes)
            default:
                throw problem
            }
        }
    }

    /// `sha256`: 64 hex digits, with or without `sha256:`; kept as `sha256:<lower-case hex>`.
    struct SHA256: Decodable {
        var digest: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let text) = value else {
                throw SettingsError("\(shown(value)) is not a digest; write the file's sha256 "
                                    + "as 64 hex digits, with or without 'sha256:'")
            }
            let hex = (text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text).lowercased()
            guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw SettingsError("'\(text)' is not a SHA-256 digest; write 64 hex digits, "
                                    + "with or without 'sha256:' (`sha256sum FILE` prints them)")
            }
            digest = "sha256:" + hex
        }
    }

    /// A value as a message shows it: its JSON, or "nothing" when absent.
    static func shown(_ value: Value?) -> String {
        guard let value else { return "nothing" }
        if case .string(let text) = value { return "'\(text)'" }
        return value.canonicalJSON()
    }
}
