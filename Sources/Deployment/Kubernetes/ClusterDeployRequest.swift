import Foundation

/// What a cluster deployment renders, and applies when asked: the model version, its
/// image by digest, the `kubernetes` or `knative` spec, and where the manifests go.
public struct ClusterDeployRequest: Sendable {
    /// The spec of one of the two cluster targets.
    public enum Target: Sendable, Equatable {
        /// A Deployment, its Service and the objects around them (`KubernetesRenderer`).
        case kubernetes(KubernetesSpec)
        /// A Knative Service (`KnativeRenderer`).
        case knative(KnativeSpec)

        /// `kubernetes` or `knative`: the record's `target`.
        public var name: String {
            switch self {
            case .kubernetes: "kubernetes"
            case .knative: "knative"
            }
        }

        /// The namespace every object is created in.
        var namespace: String {
            switch self {
            case .kubernetes(let spec): spec.namespace
            case .knative(let spec): spec.namespace
            }
        }
    }

    /// The deployment's name: every object's name, so an RFC 1035 label (`iris`).
    public var name: String
    /// The model and version deployed.
    public var model: String
    public var version: Int
    /// The image, `REGISTRY/REPOSITORY@sha256:HEX`.
    public var image: String
    /// The target and its spec.
    public var target: Target
    /// The folder the manifests are written to (created when missing).
    public var directory: URL
    /// How to apply them; nil to render only.
    public var apply: ClusterApply?
    /// The alias the caller moves to this version once it is applied, and where it points
    /// now (nil: nowhere), kept with the record.
    public var alias: String?
    public var aliasWas: Int?
    /// The run and stage deploying it.
    public var runID: Int64?
    public var stage: String?

    /// Creates a request.
    public init(name: String, model: String, version: Int, image: String, target: Target, directory: URL,
                apply: ClusterApply? = nil, alias: String? = nil, aliasWas: Int? = nil, runID: Int64? = nil,
                stage: String? = nil) {
        self.name = name
        self.model = model
        self.version = version
        self.image = image
        self.target = target
        self.directory = directory
        self.apply = apply
        self.alias = alias
        self.aliasWas = aliasWas
        self.runID = runID
        self.stage = stage
    }
}

/// How rendered manifests are applied: the kubeconfig's content (a secret's value), the
/// kubectl to run and how long its rollout may take.
///
/// `description` leaves the kubeconfig out, so that printing the value shows no secret.
public struct ClusterApply: Sendable, CustomStringConvertible {
    /// The kubeconfig itself; written to a private 0600 file only while kubectl runs.
    public var kubeconfig: String
    /// `kubectl`, looked up in `PATH`, or a path to it.
    public var kubectl: String
    /// Seconds the rollout may take before it is undone.
    public var timeoutSeconds: Int

    /// Creates the settings.
    public init(kubeconfig: String, kubectl: String = "kubectl", timeoutSeconds: Int = 300) {
        self.kubeconfig = kubeconfig
        self.kubectl = kubectl
        self.timeoutSeconds = timeoutSeconds
    }

    /// The settings without the kubeconfig.
    public var description: String { "kubectl \(kubectl), rollout timeout \(timeoutSeconds)s, kubeconfig from a secret" }
}
