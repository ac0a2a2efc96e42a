extension KubernetesRenderer {
    // MARK: Identity and access

    static func serviceAccount(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        manifest(rank: "00", apiVersion: "v1", kind: "ServiceAccount", name: workload.name, spec: spec,
                 workload: workload, body: nil,
                 topLevel: [("automountServiceAccountToken", .bool(spec.vault != nil))])
    }

    /// `get` on exactly the Secrets the pod names, by `resourceNames`: no list, no watch,
    /// no other Secret of the namespace.
    static func role(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        manifest(rank: "01", apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", name: workload.name,
                 spec: spec, workload: workload, body: nil, topLevel: [
                    ("rules", .list([.map([
                        ("apiGroups", .strings([""])),
                        ("resources", .strings(["secrets"])),
                        ("resourceNames", .strings(spec.secretNames)),
                        ("verbs", .strings(["get"])),
                    ])])),
                 ])
    }

    static func roleBinding(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        manifest(rank: "02", apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", name: workload.name,
                 spec: spec, workload: workload, body: nil, topLevel: [
                    ("subjects", .list([.map([
                        ("kind", .string("ServiceAccount")), ("name", .string(workload.name)),
                        ("namespace", .string(spec.namespace)),
                    ])])),
                    ("roleRef", .map([
                        ("apiGroup", .string("rbac.authorization.k8s.io")), ("kind", .string("Role")),
                        ("name", .string(workload.name)),
                    ])),
                 ])
    }

    // MARK: Scaling and availability

    static func autoscaler(_ autoscaling: KubernetesSpec.Autoscaling, _ spec: KubernetesSpec,
                           _ workload: KubernetesWorkload) -> RenderedManifest {
        var metrics: [ManifestNode] = []
        if let cpu = autoscaling.cpuUtilization {
            metrics.append(.map([
                ("type", .string("Resource")),
                ("resource", .map([
                    ("name", .string("cpu")),
                    ("target", .map([("type", .string("Utilization")), ("averageUtilization", .int(cpu))])),
                ])),
            ]))
        }
        for metric in autoscaling.metrics {
            metrics.append(.map([
                ("type", .string("Pods")),
                ("pods", .map([
                    ("metric", .map([("name", .string(metric.name))])),
                    ("target", .map([("type", .string("AverageValue")),
                                     ("averageValue", .string(metric.averageValue.text))])),
                ])),
            ]))
        }
        return manifest(rank: "20", apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: workload.name,
                        spec: spec, workload: workload, body: .map([
                            ("scaleTargetRef", .map([
                                ("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")),
                                ("name", .string(workload.name)),
                            ])),
                            ("minReplicas", .int(autoscaling.minReplicas)),
                            ("maxReplicas", .int(autoscaling.maxReplicas)),
                            ("metrics", .list(metrics)),
                        ]))
    }

    static func disruptionBudget(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        let bound: (String, ManifestNode)
        switch spec.disruptionBudget {
        case .minAvailable(let value): bound = ("minAvailable", value)
        case .maxUnavailable(let value): bound = ("maxUnavailable", value)
        }
        return manifest(rank: "21", apiVersion: "policy/v1", kind: "PodDisruptionBudget", name: workload.name,
                        spec: spec, workload: workload, body: .map([
                            bound,
                            ("selector", .map([("matchLabels", .sorted(workload.selector))])),
                        ]))
    }

    // MARK: Network

    /// Ingress to the model's port only from the peers named; with none, from nowhere.
    static func networkPolicy(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        var rules: [ManifestNode] = []
        if !spec.networkPolicy.allow.isEmpty {
            let peers = spec.networkPolicy.allow.map { peer -> ManifestNode in
                var pairs: [(String, ManifestNode)] = []
                if let namespace = peer.namespace {
                    // Set by the API server on every namespace, so it cannot be forged by a label.
                    pairs.append(("namespaceSelector", .map([
                        ("matchLabels", .sorted(["kubernetes.io/metadata.name": namespace])),
                    ])))
                }
                if !peer.pods.isEmpty {
                    pairs.append(("podSelector", .map([("matchLabels", .sorted(peer.pods))])))
                }
                return .map(pairs)
            }
            rules.append(.map([
                ("from", .list(peers)),
                ("ports", .list([.map([("protocol", .string("TCP")), ("port", .int(workload.port))])])),
            ]))
        }
        return manifest(rank: "22", apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", name: workload.name,
                        spec: spec, workload: workload, body: .map([
                            ("podSelector", .map([("matchLabels", .sorted(workload.selector))])),
                            ("policyTypes", .strings(["Ingress"])),
                            ("ingress", .list(rules)),
                        ]))
    }
}
