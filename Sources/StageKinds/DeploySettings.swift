import ModelRegistry
import PipelineSpec

/// The `with:` of a `deploy` stage, as a settings type: `mlpipe lint` checks every key and
/// value from this type alone.
///
/// ```yaml
/// with:
///   model: iris@staging              # NAME@ALIAS, NAME@VERSION or NAME (the newest)
///   target: local                    # optional: local (the only target of this version)
///   name: iris                       # optional: the deployment's name (default: the model's)
///   promote: production              # optional: alias moved to the version once it is ready;
///                                    #   a failed smoke test (or `deployments rollback`) moves it back
///   port: 8081                       # optional: on 127.0.0.1 (default: a free one)
///   env: { MLPIPE_WORKERS: "1" }     # optional: the service's environment (no secrets here)
///   token: SERVING_TOKEN             # optional: the secret with the JWT key (MLPIPE_AUTH_JWT_KEY)
///   tls: { cert: certs/tls.crt, key: certs/tls.key }   # optional: HTTPS with these PEM files
///   ready_timeout: 60                # optional: seconds to wait for /v2/health/ready
///   package: ${{ stages.package.outputs.package }}     # optional: the version's package folder
///   template: templates/serving/python                 # optional: the serving app
/// ```
public struct DeploySettings: KindSettings {
    /// The model version.
    public var model: ModelReference
    /// The deployment's name.
    public var name: String?
    /// The alias to move.
    public var promote: String?
    /// A fixed port, or nil for a free one.
    public var port: Int?
    /// The service's extra environment.
    public var environment: [String: String]
    /// The secret holding the JWT key.
    public var token: String?
    /// Certificate and key paths (relative to the repository unless absolute).
    public var tls: TLS?
    /// Seconds to wait for readiness.
    public var readyTimeout: Double
    /// The package folder, when given.
    public var package: String?
    /// The serving app's folder.
    public var template: String

    /// The serving app in the repository, as `containerize` uses it.
    public static let defaultTemplate = "templates/serving/python"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, target, name, promote, port, env, token, tls, package, template
        case readyTimeout = "ready_timeout"
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let settings = try decoder.container(keyedBy: CodingKeys.self)
        model = try settings.decode(Reference.self, forKey: .model).reference
        _ = try settings.decodeIfPresent(Target.self, forKey: .target)
        name = try settings.decodeIfPresent(RegisterSettings.ModelName.self, forKey: .name)?.name
        promote = try settings.decodeIfPresent(RegisterSettings.AliasName.self, forKey: .promote)?.alias
        port = try settings.decodeIfPresent(Port.self, forKey: .port)?.number
        environment = try settings.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        token = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .token)?.text
        tls = try settings.decodeIfPresent(TLS.self, forKey: .tls)
        readyTimeout = try settings.decodeIfPresent(Seconds.self, forKey: .readyTimeout)?.value ?? 60
        package = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .package)?.text
        template = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .template)?.text
            ?? Self.defaultTemplate
    }

    /// `model`: a reference the registry resolves.
    struct Reference: Decodable {
        var reference: ModelReference

        init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(RegisterSettings.NonEmpty.self).text
            // At lint time an expression's text (`iris@${{ stages.register.results.version }}`)
            // stands for a value not known yet: it is checked when the stage starts.
            if text.contains("${{") {
                reference = ModelReference(name: text, selector: .latest)
                return
            }
            do { reference = try ModelReference(parsing: text) } catch {
                throw SettingsError("'\(text)' is not a model reference (\(error.message)); write NAME@ALIAS, "
                                    + "NAME@VERSION or NAME")
            }
        }
    }

    /// `target`: `local`.
    struct Target: Decodable {
        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string("local") = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a deploy target of this mlpipe; use local")
            }
        }
    }

    /// `port`: 1 to 65535.
    struct Port: Decodable {
        var number: Int

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .int(let number) = value, (1...65_535).contains(number) else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a port; use 1 to 65535, "
                                    + "or leave `port` out for a free one")
            }
            self.number = number
        }
    }

    /// A positive number of seconds.
    struct Seconds: Decodable {
        var value: Double

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            switch value {
            case .int(let number) where number > 0: self.value = Double(number)
            case .double(let number) where number > 0 && number.isFinite: self.value = number
            default: throw SettingsError("\(ValidateSettings.shown(value)) is not a number of seconds above 0")
            }
        }
    }

    /// `tls`: `{ cert: PATH, key: PATH }`.
    public struct TLS: Decodable, Sendable, Equatable {
        /// The certificate (PEM).
        public var cert: String
        /// Its private key (PEM).
        public var key: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case cert, key
        }

        public init(from decoder: any Decoder) throws {
            let pair = try decoder.container(keyedBy: CodingKeys.self)
            cert = try pair.decode(RegisterSettings.NonEmpty.self, forKey: .cert).text
            key = try pair.decode(RegisterSettings.NonEmpty.self, forKey: .key).text
        }
    }
}
