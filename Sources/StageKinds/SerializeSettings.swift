import ModelFormats
import ModelPackage
import PipelineSpec

/// The `with:` of a `serialize` stage, as a settings type: `mlpipe lint` checks every key
/// and value from this type alone.
///
/// ```yaml
/// with:
///   model: ${{ stages.train.outputs.model }}    # a file or a folder; relative to the repository
///   name: iris                                  # the served model's name
///   format: onnx                                # optional; default: detected (see ExpectedFormat.names)
///   report: ${{ stages.validate.outputs.report }}   # optional: trust validate's scan of the same model
///   allow: [mypkg.models.Net]                   # optional, without report: globals the scan allows
///   requirements: [numpy==2.4.6, onnxruntime==1.32.0]   # optional; default: the flavor's pins
///   metadata: { team: vision, dataset: iris-v2 }        # optional labels, string to string
///   signature:                                  # optional; default: the report's or the model's own
///     inputs:  [{ name: X, datatype: FP32, shape: [-1, 4] }]
///     outputs: [{ name: label, datatype: INT64, shape: [-1] }]
/// ```
///
/// Values are read by the small types `validate` uses where the meaning is the same
/// (`model`, `format`, `allow`) and by types of their own here, each throwing a
/// `SettingsError` at the value's line and column.
public struct SerializeSettings: KindSettings {
    /// The model file or folder; relative to the repository root unless absolute.
    public var model: String
    /// The model's name in the package.
    public var name: String
    /// The format the model must be (`auto`: detected).
    public var format: ExpectedFormat
    /// The validate report to trust; relative to the repository root unless absolute.
    public var report: String?
    /// Globals the builder's own scan allows beyond the default policy.
    public var allow: [String]
    /// Pinned requirements; nil for the flavor's defaults.
    public var requirements: [String]?
    /// Labels recorded in the manifest.
    public var metadata: [String: String]
    /// The signature to record.
    public var signature: PackageSignature?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, name, format, report, allow, requirements, metadata, signature
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let settings = try decoder.container(keyedBy: CodingKeys.self)
        // Optional keys first: a missing required key ends the decode (there is no value to
        // set aside and try again without), and the values read before it are still judged.
        format = try settings.decodeIfPresent(ValidateSettings.FormatName.self, forKey: .format)?.format ?? .auto
        report = try settings.decodeIfPresent(ReportPath.self, forKey: .report)?.path
        allow = try settings.decodeIfPresent(ValidateSettings.AllowList.self, forKey: .allow)?.globals ?? []
        requirements = try settings.decodeIfPresent(Requirements.self, forKey: .requirements)?.lines
        metadata = try settings.decodeIfPresent(Metadata.self, forKey: .metadata)?.labels ?? [:]
        signature = try settings.decodeIfPresent(SignatureSetting.self, forKey: .signature)?.signature
        model = try settings.decode(ValidateSettings.ModelPath.self, forKey: .model).path
        name = try settings.decode(ModelName.self, forKey: .name).name
    }

    /// `name`: see `PackageBuilder.problem(withName:)`.
    struct ModelName: Decodable {
        var name: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let name) = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a model name; write for example iris")
            }
            if let problem = PackageBuilder.problem(withName: name) { throw SettingsError(problem) }
            self.name = name
        }
    }

    /// `report`: a non-empty path.
    struct ReportPath: Decodable {
        var path: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let path) = value, !path.isEmpty else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a path; name the validate stage's report, "
                                    + "for example ${{ stages.validate.outputs.report }}")
            }
            self.path = path
        }
    }

    /// `requirements`: a list of `name==version` pins, one per package.
    struct Requirements: Decodable {
        var lines: [String]

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .array = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a list of pins; write for example "
                                    + "[numpy==2.4.6, onnxruntime==1.32.0]")
            }
            lines = try decoder.singleValueContainer().decode([Pin].self).map(\.line)
            do {
                _ = try Requirement.pins(lines)
            } catch {
                throw SettingsError(error.message)
            }
        }
    }

    /// One entry of `requirements`.
    struct Pin: Decodable {
        var line: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let line) = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a pin; write name==version, "
                                    + "for example numpy==2.4.6")
            }
            do {
                _ = try Requirement(parsing: line)
            } catch {
                throw SettingsError(error.message)
            }
            self.line = line
        }
    }

    /// `metadata`: a mapping of labels; numbers and booleans are kept as their text.
    struct Metadata: Decodable {
        var labels: [String: String]

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .object = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a mapping of labels; write for example "
                                    + "{ team: vision, dataset: iris-v2 }")
            }
            labels = try decoder.singleValueContainer().decode([String: Label].self).mapValues(\.text)
        }
    }

    /// One value of `metadata`: a string, number or boolean.
    struct Label: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            switch value {
            case .string(let text): self.text = text
            case .int, .double, .bool: text = value.interpolated
            default:
                throw SettingsError("\(ValidateSettings.shown(value)) is not a label; metadata values are strings, "
                                    + "numbers or booleans")
            }
        }
    }
}
