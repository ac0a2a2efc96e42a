/// Renders the manifests that run a model version on a Kubernetes cluster, from a
/// `KubernetesSpec` and a `KubernetesWorkload`.
///
/// Pure: no cluster, no clock, no file system. The same input gives the same bytes, so
/// a rendered folder can be committed, diffed, and cached by its inputs. What it writes,
/// in apply order:
///
/// | file | kind | when |
/// | --- | --- | --- |
/// | 00-serviceaccount.yaml | ServiceAccount | always |
/// | 01-role.yaml, 02-rolebinding.yaml | Role (get on the named Secrets only), RoleBinding | with `secrets` |
/// | 10-deployment.yaml | Deployment | always |
/// | 11-service.yaml | Service | always |
/// | 20-hpa.yaml | HorizontalPodAutoscaler (autoscaling/v2) | with `autoscaling` |
/// | 21-pdb.yaml | PodDisruptionBudget | always |
/// | 22-networkpolicy.yaml | NetworkPolicy (default deny) | always |
/// | 30-httproute.yaml or 30-ingress.yaml | HTTPRoute / Ingress | with `route` |
/// | 31-peerauthentication.yaml, 32-authorizationpolicy.yaml | Istio | with `istio` (the policy with allowed callers) |
/// | 40-servicemonitor.yaml | ServiceMonitor | unless `service_monitor.enabled: false` |
public enum KubernetesRenderer {
    /// The serving app's readiness path (Open Inference Protocol V2).
    public static let readyPath = "/v2/health/ready"
    /// The serving app's liveness path.
    public static let livePath = "/v2/health/live"
    /// Where the serving app exports Prometheus metrics.
    public static let metricsPath = "/metrics"
    /// The user and group the serving image runs as (`User 65532:65532`).
    static let runAsUser = 65_532

    /// The manifests for `workload` as `spec` says, with the Service's DNS name.
    ///
    /// Throws `KubernetesError.invalidWorkload` for a name, version, image (not by
    /// digest) or port that cannot be deployed; the spec was checked when decoded.
    public static func render(_ spec: KubernetesSpec, for workload: KubernetesWorkload) throws(KubernetesError)
        -> KubernetesRendering {
        try workload.check()
        var manifests = [serviceAccount(spec, workload)]
        if !spec.secretNames.isEmpty {
            manifests.append(role(spec, workload))
            manifests.append(roleBinding(spec, workload))
        }
        manifests.append(deployment(spec, workload))
        manifests.append(service(spec, workload))
        if let autoscaling = spec.autoscaling { manifests.append(autoscaler(autoscaling, spec, workload)) }
        manifests.append(disruptionBudget(spec, workload))
        manifests.append(networkPolicy(spec, workload))
        if let route = spec.route { manifests.append(self.route(route, spec, workload)) }
        if let istio = spec.istio { manifests += self.istio(istio, spec, workload) }
        if spec.serviceMonitor.enabled { manifests.append(serviceMonitor(spec, workload)) }
        let host = "\(workload.name).\(spec.namespace).svc.cluster.local"
        return KubernetesRendering(manifests: manifests, serviceHost: host,
                                   endpoint: ServiceEndpoint(scheme: "http", host: host, port: workload.port),
                                   namespace: spec.namespace, rolloutResource: "deployment/\(workload.name)",
                                   revisionName: nil)
    }

    // MARK: The workload

    static func deployment(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        var body: [(String, ManifestNode)] = []
        // With an autoscaler the HPA owns the count; a replicas field would reset it on every apply.
        if spec.autoscaling == nil { body.append(("replicas", .int(spec.replicas ?? 1))) }
        body += [
            ("revisionHistoryLimit", .int(5)),
            ("progressDeadlineSeconds", .int(600)),
            ("strategy", .map([
                ("type", .string("RollingUpdate")),
                // A new pod is ready before an old one goes: no capacity is lost mid-rollout.
                ("rollingUpdate", .map([("maxSurge", .int(1)), ("maxUnavailable", .int(0))])),
            ])),
            ("selector", .map([("matchLabels", .sorted(workload.selector))])),
            ("template", .map([
                ("metadata", podMetadata(spec, workload)),
                ("spec", podSpec(spec, workload)),
            ])),
        ]
        return manifest(rank: "10", apiVersion: "apps/v1", kind: "Deployment", name: workload.name,
                        spec: spec, workload: workload, body: .map(body))
    }

    static func podMetadata(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> ManifestNode {
        var pairs: [(String, ManifestNode)] = [("labels", .sorted(workload.labels))]
        if let vault = spec.vault {
            var annotations = [
                "vault.hashicorp.com/agent-inject": "true",
                "vault.hashicorp.com/role": vault.role,
            ]
            for (file, path) in vault.secrets { annotations["vault.hashicorp.com/agent-inject-secret-\(file)"] = path }
            pairs.append(("annotations", .sorted(annotations)))
        }
        return .map(pairs)
    }

    static func podSpec(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> ManifestNode {
        var pairs: [(String, ManifestNode)] = [
            ("serviceAccountName", .string(workload.name)),
            // The app never calls the API; only the Vault agent logs in with the token.
            ("automountServiceAccountToken", .bool(spec.vault != nil)),
            ("securityContext", .map([
                ("runAsNonRoot", .bool(true)),
                ("runAsUser", .int(runAsUser)),
                ("runAsGroup", .int(runAsUser)),
                ("fsGroup", .int(runAsUser)),
                ("seccompProfile", .map([("type", .string("RuntimeDefault"))])),
            ])),
        ]
        if !spec.nodeSelector.isEmpty { pairs.append(("nodeSelector", .sorted(spec.nodeSelector))) }
        if !spec.tolerations.isEmpty { pairs.append(("tolerations", .list(spec.tolerations.map(toleration)))) }
        pairs.append(("containers", .list([container(resources: spec.resources, gpu: spec.gpu, secrets: spec.secrets,
                                                     workload: workload, probePort: .string("http"))])))
        pairs.append(("volumes", .list([tmpVolume])))
        return .map(pairs)
    }

    /// The model's container, shared with the Knative Service (which names no probe port,
    /// no port name and no `PORT`: Knative reserves them).
    static func container(resources: ContainerResources, gpu: KubernetesSpec.GPU?,
                          secrets: [KubernetesSpec.SecretReference], workload: KubernetesWorkload,
                          probePort: ManifestNode?) -> ManifestNode {
        var limits: [(String, ManifestNode)] = [
            ("cpu", .string(resources.limits.cpu.text)), ("memory", .string(resources.limits.memory.text)),
        ]
        if let gpu { limits.append((gpu.resource, .int(gpu.count))) }
        var environment: [ManifestNode] = [
            .map([("name", .string("MLPIPE_MODEL_VERSION")), ("value", .string(workload.version))]),
        ]
        // Knative sets PORT to the container port itself and refuses a container that sets it.
        if probePort != nil {
            environment.append(.map([("name", .string("PORT")), ("value", .string(String(workload.port)))]))
        }
        // Only a reference: the kubelet reads the value from the Secret when the pod starts.
        environment += secrets.map { reference in
            .map([
                ("name", .string(reference.env)),
                ("valueFrom", .map([("secretKeyRef", .map([
                    ("name", .string(reference.secret)), ("key", .string(reference.key)),
                ]))])),
            ])
        }
        func probe(_ path: String, period: Int, failures: Int) -> ManifestNode {
            var get: [(String, ManifestNode)] = [("path", .string(path))]
            if let probePort { get.append(("port", probePort)) }
            return .map([("httpGet", .map(get)), ("periodSeconds", .int(period)), ("timeoutSeconds", .int(2)),
                         ("failureThreshold", .int(failures))])
        }
        var ports: [(String, ManifestNode)] = [("containerPort", .int(workload.port)), ("protocol", .string("TCP"))]
        if probePort != nil { ports.insert(("name", .string("http")), at: 0) }
        return .map([
            ("name", .string("model")),
            ("image", .string(workload.image)),
            ("imagePullPolicy", .string("IfNotPresent")),
            ("ports", .list([.map(ports)])),
            ("env", .list(environment)),
            ("resources", .map([
                ("requests", .map([("cpu", .string(resources.requests.cpu.text)),
                                   ("memory", .string(resources.requests.memory.text))])),
                ("limits", .map(limits)),
            ])),
            // Loading a large model can take minutes: the startup probe holds the others off.
            ("startupProbe", probe(livePath, period: 5, failures: 60)),
            ("readinessProbe", probe(readyPath, period: 5, failures: 3)),
            ("livenessProbe", probe(livePath, period: 10, failures: 3)),
            ("securityContext", .map([
                ("allowPrivilegeEscalation", .bool(false)),
                ("readOnlyRootFilesystem", .bool(true)),
                ("runAsNonRoot", .bool(true)),
                ("capabilities", .map([("drop", .strings(["ALL"]))])),
                ("seccompProfile", .map([("type", .string("RuntimeDefault"))])),
            ])),
            ("volumeMounts", .list([.map([("name", .string("tmp")), ("mountPath", .string("/tmp"))])])),
        ])
    }

    /// The one writable place: Python and its libraries write temporary files.
    static let tmpVolume = ManifestNode.map([
        ("name", .string("tmp")),
        ("emptyDir", .map([("sizeLimit", .string("256Mi"))])),
    ])

    static func toleration(_ toleration: KubernetesSpec.Toleration) -> ManifestNode {
        var pairs: [(String, ManifestNode)] = []
        if let key = toleration.key { pairs.append(("key", .string(key))) }
        pairs.append(("operator", .string(toleration.operator)))
        if let value = toleration.value { pairs.append(("value", .string(value))) }
        if let effect = toleration.effect { pairs.append(("effect", .string(effect))) }
        if let seconds = toleration.tolerationSeconds { pairs.append(("tolerationSeconds", .int(seconds))) }
        return .map(pairs)
    }

    static func service(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        manifest(rank: "11", apiVersion: "v1", kind: "Service", name: workload.name, spec: spec, workload: workload,
                 body: .map([
                    ("type", .string("ClusterIP")),
                    ("selector", .sorted(workload.selector)),
                    ("ports", .list([.map([
                        ("name", .string("http")), ("port", .int(workload.port)),
                        ("targetPort", .string("http")), ("protocol", .string("TCP")),
                    ])])),
                 ]))
    }

    // MARK: Documents

    /// A whole manifest: apiVersion, kind, metadata (name, namespace, labels), then `spec`
    /// (or, for kinds without one, `body`'s pairs at the top level).
    static func manifest(rank: String, apiVersion: String, kind: String, name: String, spec: KubernetesSpec,
                         workload: KubernetesWorkload, body: ManifestNode?, topLevel: [(String, ManifestNode)] = [],
                         extraLabels: [String: String] = [:]) -> RenderedManifest {
        let labels = workload.labels.merging(extraLabels) { own, _ in own }
        var pairs: [(String, ManifestNode)] = [
            ("apiVersion", .string(apiVersion)),
            ("kind", .string(kind)),
            ("metadata", .map([
                ("name", .string(name)), ("namespace", .string(spec.namespace)), ("labels", .sorted(labels)),
            ])),
        ]
        pairs += topLevel
        if let body { pairs.append(("spec", body)) }
        return RenderedManifest(fileName: "\(rank)-\(kind.lowercased()).yaml", kind: kind, text: ManifestNode.map(pairs).yaml)
    }
}
