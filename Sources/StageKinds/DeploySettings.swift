import Deployment
import ModelRegistry
import PipelineSpec

/// The `with:` of a `deploy` stage, as a settings type: `mlpipe lint` checks every key and
/// value from this type alone.
///
/// ```yaml
/// with:
///   model: iris@staging              # NAME@ALIAS, NAME@VERSION or NAME (the newest)
///   target: local                    # optional: local (the default), kubernetes or knative
///   name: iris                       # optional: the deployment's name (default: the model's)
///   promote: production              # optional: alias moved to the version once it is ready;
///                                    #   a failed smoke test (or `deployments rollback`) moves it back
///   registry: { backend: mlflow, tracking_uri: http://127.0.0.1:5000, token: MLFLOW_TOKEN }
///                                    # optional: where `model` is and `promote` moves (default: local)
///   # target: local only
///   port: 8081                       # optional: on 127.0.0.1 (default: a free one)
///   env: { MLPIPE_WORKERS: "1" }     # optional: the service's environment (no secrets here)
///   token: SERVING_TOKEN             # optional: the secret with the JWT key (MLPIPE_AUTH_JWT_KEY)
///   tls: { cert: certs/tls.crt, key: certs/tls.key }   # optional: HTTPS with these PEM files
///   ready_timeout: 60                # optional: seconds to wait for /v2/health/ready
///   package: ${{ stages.package.outputs.package }}     # optional: the version's package folder
///   template: templates/serving/python                 # optional: the serving app
///   # target: kubernetes or knative only
///   kubernetes: { resources: { requests: { cpu: 500m, memory: 512Mi },
///                              limits: { cpu: "1", memory: 1Gi } } }   # KubernetesSpec; knative: KnativeSpec
///   apply: true                      # optional: kubectl apply and wait for the rollout (default: render only)
///   kubeconfig: KUBECONFIG           # with apply: the secret whose value is the kubeconfig
///   kubectl: tools/kubectl           # optional: kubectl's path (default: kubectl on PATH)
///   rollout_timeout: 300             # optional: seconds the rollout may take before it is undone
/// ```
///
/// A key of the other kind of target is refused where it is written, with what to use
/// instead; so are `target: kubernetes` without `kubernetes:` (whose CPU and memory
/// requests and limits are required), `apply: true` without `kubeconfig`, and `promote`
/// on a cluster target that is not applied (nothing would run the version yet).
public struct DeploySettings: KindSettings {
    /// The model version.
    public var model: ModelReference
    /// Where the version runs.
    public var target: Target
    /// The deployment's name.
    public var name: String?
    /// The alias to move.
    public var promote: String?
    /// The registry `model` is resolved in and `promote` moves an alias of.
    var registry: DeployRegistry
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
    /// The `kubernetes` target's spec (nil for the other targets).
    public var kubernetes: KubernetesSpec?
    /// The `knative` target's spec (nil for the other targets).
    public var knative: KnativeSpec?
    /// Whether a cluster target's manifests are applied with kubectl.
    public var apply: Bool
    /// The secret holding the kubeconfig, when `apply` is on.
    public var kubeconfig: String?
    /// kubectl's path (relative to the repository unless absolute), or nil for `kubectl`
    /// on PATH.
    public var kubectl: String?
    /// Seconds the rollout may take.
    public var rolloutTimeout: Int

    /// Where a deploy stage puts the model version.
    public enum Target: String, Sendable, Equatable, CaseIterable {
        /// A process on 127.0.0.1.
        case local
        /// Manifests for a Kubernetes cluster: a Deployment, its Service and what surrounds them.
        case kubernetes
        /// A Knative Service.
        case knative

        /// Whether the version runs on a cluster rather than here.
        public var isCluster: Bool { self != .local }
    }

    /// The serving app in the repository, as `containerize` uses it.
    public static let defaultTemplate = "templates/serving/python"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, target, name, promote, registry, port, env, token, tls, package, template
        case kubernetes, knative, apply, kubeconfig, kubectl
        case readyTimeout = "ready_timeout"
        case rolloutTimeout = "rollout_timeout"
    }

    /// The keys only the cluster targets read.
    static let clusterKeys: [CodingKeys] = [.kubernetes, .knative, .apply, .kubeconfig, .kubectl, .rolloutTimeout]

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let settings = try decoder.container(keyedBy: CodingKeys.self)
        model = try settings.decode(Reference.self, forKey: .model).reference
        // nil when absent (local) or not known yet (an expression, or a value already
        // refused): then the rules between the keys are left to the stage start.
        let chosen = try settings.decodeIfPresent(TargetName.self, forKey: .target)?.target
        target = chosen ?? .local
        name = try settings.decodeIfPresent(RegisterSettings.ModelName.self, forKey: .name)?.name
        promote = try settings.decodeIfPresent(RegisterSettings.AliasName.self, forKey: .promote)?.alias
        registry = try settings.decodeIfPresent(DeployRegistry.self, forKey: .registry) ?? .local
        port = try settings.decodeIfPresent(Port.self, forKey: .port)?.number
        let env = try settings.decodeIfPresent([String: String].self, forKey: .env)
        environment = env ?? [:]
        token = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .token)?.text
        tls = try settings.decodeIfPresent(TLS.self, forKey: .tls)
        let ready = try settings.decodeIfPresent(Seconds.self, forKey: .readyTimeout)?.value
        readyTimeout = ready ?? 60
        package = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .package)?.text
        let app = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .template)?.text
        template = app ?? Self.defaultTemplate
        kubernetes = try settings.decodeIfPresent(KubernetesSpec.self, forKey: .kubernetes)
        knative = try settings.decodeIfPresent(KnativeSpec.self, forKey: .knative)
        let applies = try settings.decodeIfPresent(Bool.self, forKey: .apply)
        apply = applies ?? false
        kubeconfig = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .kubeconfig)?.text
        kubectl = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .kubectl)?.text
        let timeout = try settings.decodeIfPresent(WholeSeconds.self, forKey: .rolloutTimeout)?.value
        rolloutTimeout = timeout ?? 300
        if chosen == nil && settings.contains(.target) { return }
        // Each value is its decoded form, nil when absent or set aside after an error:
        // a key reported once is not reported again.
        let given: [CodingKeys: Bool] = [
            .port: port != nil, .env: env != nil, .token: token != nil, .tls: tls != nil, .readyTimeout: ready != nil,
            .package: package != nil, .template: app != nil, .kubernetes: kubernetes != nil, .knative: knative != nil,
            .apply: applies != nil, .kubeconfig: kubeconfig != nil, .kubectl: kubectl != nil,
            .rolloutTimeout: timeout != nil, .promote: promote != nil,
        ]
        // An `apply` not known yet (an expression) leaves the rules that depend on it to the stage start.
        let applyKnown = applies != nil || !settings.contains(.apply)
        try Self.checkTargetKeys(target, given: given, applies: applyKnown ? apply : nil, settings: settings)
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

    /// `target`: `local`, `kubernetes` or `knative`.
    struct TargetName: Decodable {
        var target: Target

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let text) = value, let target = Target(rawValue: text) else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a deploy target; use local, kubernetes "
                                    + "or knative")
            }
            self.target = target
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
