/// What every pod that mlpipe renders shares: the image, the namespace, the repository it
/// clones, the Kubernetes Secret its secrets come from, and the run store it records in.
/// Used by `mlpipe export argo` and by stages with `executor: kubernetes`.
public struct ClusterOptions: Sendable {
    /// The image that runs each stage: mlpipe, git and the pipeline's tools.
    public var image: String
    /// The namespace of the Workflow or Jobs; nil for the kubeconfig's (or `argo -n`).
    public var namespace: String?
    /// The pods' service account; nil for the namespace's default.
    public var serviceAccount: String?
    /// The URL pods clone; nil for the repository's `origin` remote.
    public var repository: String?
    /// The Kubernetes Secret with one key per pipeline secret a pod needs (the key is the
    /// secret's name in the pipeline file); nil for `mlpipe-PIPELINE`.
    public var secretName: String?
    /// The run store pods record in (`MLPIPE_STORE` in the pod); nil for each pod's own
    /// SQLite file, which is lost with the pod.
    public var store: String?
    /// `kubectl`, or a path to it.
    public var kubectl: String

    /// The image every release of mlpipe is published as (see the README), for this version.
    public static func defaultImage(version: String) -> String { "ghcr.io/mlpipe/mlpipe:\(version)" }

    /// Options; see the properties.
    public init(image: String = ClusterOptions.defaultImage(version: "0.1.0"), namespace: String? = nil,
                serviceAccount: String? = nil, repository: String? = nil, secretName: String? = nil,
                store: String? = nil, kubectl: String = "kubectl") {
        self.image = image
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.repository = repository
        self.secretName = secretName
        self.store = store
        self.kubectl = kubectl
    }
}
