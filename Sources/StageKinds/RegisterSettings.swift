import ModelRegistry
import PipelineSpec

/// The `with:` of a `register` stage, as a settings type: `mlpipe lint` checks every key
/// and value from this type alone.
///
/// ```yaml
/// with:
///   name: iris                                      # the model's name
///   package: ${{ stages.package.outputs.package }}  # the package folder (or its mlpipe-model.json)
///   image: ${{ stages.image.results.image }}        # optional: sha256:… or REGISTRY/REPO@sha256:…
///   metrics: ${{ stages.train.outputs.metrics }}    # optional: a JSON file, or { accuracy: 0.97 }
///   aliases: [staging]                              # optional: moved to the version
///   backend: mlflow                                 # optional: local (default) or mlflow
///   tracking_uri: http://127.0.0.1:5000             # mlflow only
///   token: MLFLOW_TOKEN                             # mlflow only, optional: the secret with a bearer token
///   mlflow_run_id: ${{ stages.train.results.… }}    # mlflow only, optional: MLflow's run_id
///   run_link: https://ci.example.com/runs/42        # mlflow only, optional: MLflow's run_link
/// ```
public struct RegisterSettings: KindSettings {
    /// Where the registry is.
    public enum Backend: Sendable, Equatable {
        /// Tables in the workspace's `mlpipe.db`.
        case local
        /// An MLflow tracking server; `token` names the secret with its bearer token.
        case mlflow(trackingURI: String, token: String?)

        /// The backend `kind` names, with the rules of every stage that names one: the
        /// `mlflowOnly` keys are refused with `backend: local`, and `backend: mlflow`
        /// needs `tracking_uri`.
        init<Key: CodingKey>(_ kind: ModelRegistryBackendName, trackingURI: String?, token: String?,
                             in settings: KeyedDecodingContainer<Key>, backendKey: Key, mlflowOnly: [Key]) throws {
            switch kind {
            case .local:
                for key in mlflowOnly where settings.contains(key) {
                    throw SettingsError("'\(key.stringValue)' is for the mlflow backend; add `backend: mlflow` or remove it",
                                        at: settings.codingPath + [key])
                }
                self = .local
            case .mlflow:
                guard let trackingURI else {
                    throw SettingsError("the mlflow backend needs `tracking_uri`, the server's base URL "
                                        + "(for example http://127.0.0.1:5000)", at: settings.codingPath + [backendKey])
                }
                self = .mlflow(trackingURI: trackingURI, token: token)
            }
        }
    }

    /// The model's name.
    public var name: String
    /// The package folder, or its manifest; relative to the repository unless absolute.
    public var package: String
    /// The image by digest: `sha256:…` alone, or `REGISTRY/REPO@sha256:…`.
    public var image: ImageReference?
    /// A metrics file (relative to the repository unless absolute), or the metrics.
    public var metrics: Metrics?
    /// Aliases to point at the version.
    public var aliases: [String]
    /// The registry.
    public var backend: Backend
    /// MLflow's `run_id` for the version.
    public var mlflowRunID: String?
    /// MLflow's `run_link` for the version.
    public var runLink: String?

    /// `CaseIterable`, so that a did-you-mean chooses among all keys.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, package, image, metrics, aliases, backend, token
        case trackingURI = "tracking_uri"
        case mlflowRunID = "mlflow_run_id"
        case runLink = "run_link"
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let settings = try decoder.container(keyedBy: CodingKeys.self)
        name = try settings.decode(ModelName.self, forKey: .name).name
        package = try settings.decode(NonEmpty.self, forKey: .package).text
        image = try settings.decodeIfPresent(ImageReference.self, forKey: .image)
        metrics = try settings.decodeIfPresent(Metrics.self, forKey: .metrics)
        aliases = try settings.decodeIfPresent([AliasName].self, forKey: .aliases)?.map(\.alias) ?? []
        let kind = try settings.decodeIfPresent(BackendName.self, forKey: .backend)?.backend ?? .local
        let uri = try settings.decodeIfPresent(NonEmpty.self, forKey: .trackingURI)?.text
        let token = try settings.decodeIfPresent(NonEmpty.self, forKey: .token)?.text
        mlflowRunID = try settings.decodeIfPresent(NonEmpty.self, forKey: .mlflowRunID)?.text
        runLink = try settings.decodeIfPresent(NonEmpty.self, forKey: .runLink)?.text
        backend = try Backend(kind, trackingURI: uri, token: token, in: settings, backendKey: .backend,
                              mlflowOnly: [.trackingURI, .token, .mlflowRunID, .runLink])
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

    /// `name`: a model name by `ModelNames`' rules.
    struct ModelName: Decodable {
        var name: String

        init(from decoder: any Decoder) throws {
            name = try decoder.singleValueContainer().decode(NonEmpty.self).text
            do { try ModelNames.checkModel(name) } catch { throw SettingsError(error.description) }
        }
    }

    /// One of `aliases`.
    struct AliasName: Decodable {
        var alias: String

        init(from decoder: any Decoder) throws {
            alias = try decoder.singleValueContainer().decode(NonEmpty.self).text
            do { try ModelNames.checkAlias(alias) } catch { throw SettingsError(error.description) }
        }
    }

    /// `backend`: `local` or `mlflow`.
    struct BackendName: Decodable {
        var backend: ModelRegistryBackendName

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let text) = value, let backend = ModelRegistryBackendName(rawValue: text) else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a registry backend; use "
                                    + ModelRegistryBackendName.allCases.map(\.rawValue).joined(separator: " or "))
            }
            self.backend = backend
        }
    }

    /// `image`: an image by digest.
    public struct ImageReference: Decodable, Sendable, Equatable {
        /// `sha256:<hex>` of the image manifest.
        public var digest: String
        /// `REGISTRY/REPO@sha256:…`, when given.
        public var reference: String?

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(NonEmpty.self).text
            let digestPart = text.range(of: "@").map { String(text[$0.upperBound...]) } ?? text
            do { try ModelNames.checkDigest(digestPart) } catch {
                throw SettingsError("'\(text)' is not an image by digest; give sha256:<64 hex digits> or "
                                    + "REGISTRY/REPOSITORY@sha256:<64 hex digits> (a tag alone can move)")
            }
            digest = digestPart
            reference = text.contains("@") ? text : nil
        }
    }

    /// `metrics`: a file to read when the stage runs, or the metrics themselves.
    public enum Metrics: Decodable, Sendable, Equatable {
        /// A JSON file of metrics.
        case file(String)
        /// Metrics written in the pipeline (numbers, nested objects flattened with `.`).
        case values([String: Double])

        public init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            switch value {
            case .string(let path) where !path.isEmpty:
                self = .file(path)
            case .object:
                self = .values(try Self.flatten(value, source: "metrics"))
            default:
                throw SettingsError("\(ValidateSettings.shown(value)) is not metrics; give a JSON file "
                                    + "(${{ stages.train.outputs.metrics }}) or an object such as { accuracy: 0.97 }")
            }
        }

        /// Numbers by name, nested objects' keys joined with `.` (`eval.accuracy`); anything
        /// else is an error naming the key and `source`.
        static func flatten(_ value: Value, source: String) throws(SettingsError) -> [String: Double] {
            var result: [String: Double] = [:]
            func walk(_ value: Value, _ prefix: String) throws(SettingsError) {
                switch value {
                case .int(let number): result[prefix] = Double(number)
                case .double(let number) where number.isFinite: result[prefix] = number
                case .object(let members):
                    for (key, member) in members { try walk(member, prefix.isEmpty ? key : prefix + "." + key) }
                default:
                    throw SettingsError("metric '\(prefix)' in \(source) is \(ValidateSettings.shown(value)), not a number; "
                                        + "the registry keeps numbers (nested objects are read as name.key)")
                }
            }
            guard case .object = value else {
                throw SettingsError("\(source) holds \(ValidateSettings.shown(value)), not an object of metrics")
            }
            try walk(value, "")
            return result
        }
    }
}
