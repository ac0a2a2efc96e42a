/// How a model runs on a Kubernetes cluster: what a pipeline writes under
/// `with: kubernetes:` of a deploy stage, read with any `Decoder` (mlpipe's settings
/// decoder reports each refusal at its FILE:LINE:COL, with the key path).
///
/// ```yaml
/// kubernetes:
///   namespace: ml                       # default: default
///   replicas: 2                         # default 1; not with autoscaling
///   resources:                          # required, all four
///     requests: { cpu: 500m, memory: 512Mi }
///     limits: { cpu: "1", memory: 1Gi }
///   gpu: { count: 1 }                   # nvidia.com/gpu limits (resource: to name another)
///   node_selector: { nvidia.com/gpu.present: "true" }
///   tolerations: [ { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule } ]
///   autoscaling: { min_replicas: 2, max_replicas: 10, cpu_utilization: 70,
///                  metrics: [ { name: requests_per_second, average_value: "20" } ] }
///   disruption_budget: { max_unavailable: 1 }   # the default; or min_available
///   network_policy: { allow: [ { namespace: gateway }, { pods: { app: web } } ] }
///   secrets: [ { env: MLPIPE_AUTH_JWT_KEY, secret: iris-auth, key: jwt-key } ]
///   vault: { role: iris, secrets: { db: database/creds/iris } }
///   route: { kind: httproute, host: iris.example.com,
///            gateway: { name: public, namespace: gateway, section: https } }
///   istio: { mtls: strict, allowed_principals: [ cluster.local/ns/gateway/sa/gateway ] }
///   service_monitor: { interval: 30s, labels: { release: prometheus } }
/// ```
///
/// Only `resources` is required. Secure by default: the pod runs as a non-root user
/// with a read-only root filesystem and no capabilities; the NetworkPolicy admits no
/// traffic unless `network_policy.allow` names where it may come from; secrets are
/// named (a Secret and a key, or a Vault path), and there is no key that takes a value.
public struct KubernetesSpec: Decodable, Sendable, Equatable {
    /// Where every object is created.
    public var namespace: String
    /// The Deployment's replica count; nil when `autoscaling` sets it.
    public var replicas: Int?
    /// Requests and limits, all four required.
    public var resources: ContainerResources
    /// GPUs as an extended-resource limit; nil for none.
    public var gpu: GPU?
    /// `nodeSelector` of the pod, sorted when written.
    public var nodeSelector: [String: String]
    /// Tolerations of the pod, in the order written.
    public var tolerations: [Toleration]
    /// A HorizontalPodAutoscaler; nil for a fixed replica count.
    public var autoscaling: Autoscaling?
    /// The PodDisruptionBudget's bound.
    public var disruptionBudget: DisruptionBudget
    /// Who may connect; nobody unless named.
    public var networkPolicy: NetworkPolicy
    /// Environment variables from Secret references, in the order written.
    public var secrets: [SecretReference]
    /// Vault Agent injection; nil for none.
    public var vault: Vault?
    /// Traffic from outside the cluster; nil for in-cluster only.
    public var route: Route?
    /// Istio mTLS and authorization; nil without Istio.
    public var istio: Istio?
    /// The Prometheus Operator scrape of `/metrics`.
    public var serviceMonitor: ServiceMonitor

    /// The namespace when none is given.
    public static let defaultNamespace = "default"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case namespace, replicas, resources, gpu, tolerations, autoscaling, secrets, vault, route, istio
        case nodeSelector = "node_selector"
        case disruptionBudget = "disruption_budget"
        case networkPolicy = "network_policy"
        case serviceMonitor = "service_monitor"
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        namespace = try fields.decodeIfPresent(SpecValue.Label.self, forKey: .namespace)?.text ?? Self.defaultNamespace
        replicas = try SpecValue.whole(fields, CodingKeys.replicas, from: 1, meaning: "a replica count")
        resources = try fields.decode(ContainerResources.self, forKey: .resources)
        gpu = try fields.decodeIfPresent(GPU.self, forKey: .gpu)
        nodeSelector = try fields.decodeIfPresent(SpecValue.Labels.self, forKey: .nodeSelector)?.pairs ?? [:]
        tolerations = try fields.decodeIfPresent([Toleration].self, forKey: .tolerations) ?? []
        autoscaling = try fields.decodeIfPresent(Autoscaling.self, forKey: .autoscaling)
        if replicas != nil && autoscaling != nil {
            throw SpecValue.refuse("`replicas` and `autoscaling` are both set, and would fight over the replica count; "
                                   + "remove `replicas` and set `autoscaling.min_replicas`",
                                   at: fields.codingPath + [CodingKeys.replicas])
        }
        disruptionBudget = try fields.decodeIfPresent(DisruptionBudget.self, forKey: .disruptionBudget) ?? .default
        networkPolicy = try fields.decodeIfPresent(NetworkPolicy.self, forKey: .networkPolicy) ?? NetworkPolicy(allow: [])
        secrets = try fields.decodeIfPresent([SecretReference].self, forKey: .secrets) ?? []
        try SecretReference.checkDistinct(secrets, at: fields.codingPath + [CodingKeys.secrets])
        vault = try fields.decodeIfPresent(Vault.self, forKey: .vault)
        route = try fields.decodeIfPresent(Route.self, forKey: .route)
        istio = try fields.decodeIfPresent(Istio.self, forKey: .istio)
        serviceMonitor = try fields.decodeIfPresent(ServiceMonitor.self, forKey: .serviceMonitor) ?? .default
    }

    /// A spec from values already checked, for callers that build one in code; the
    /// renderer checks nothing again.
    public init(namespace: String = KubernetesSpec.defaultNamespace, replicas: Int? = nil, resources: ContainerResources,
                gpu: GPU? = nil, nodeSelector: [String: String] = [:], tolerations: [Toleration] = [],
                autoscaling: Autoscaling? = nil, disruptionBudget: DisruptionBudget = .default,
                networkPolicy: NetworkPolicy = NetworkPolicy(allow: []), secrets: [SecretReference] = [],
                vault: Vault? = nil, route: Route? = nil, istio: Istio? = nil, serviceMonitor: ServiceMonitor = .default) {
        self.namespace = namespace
        self.replicas = replicas
        self.resources = resources
        self.gpu = gpu
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        self.autoscaling = autoscaling
        self.disruptionBudget = disruptionBudget
        self.networkPolicy = networkPolicy
        self.secrets = secrets
        self.vault = vault
        self.route = route
        self.istio = istio
        self.serviceMonitor = serviceMonitor
    }

    /// The names of every Secret the pod reads, sorted and once each: what its Role may get.
    public var secretNames: [String] { Set(secrets.map(\.secret)).sorted() }
}
