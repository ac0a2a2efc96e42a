extension KubernetesRenderer {
    // MARK: Traffic from outside

    static func route(_ route: KubernetesSpec.Route, _ spec: KubernetesSpec,
                      _ workload: KubernetesWorkload) -> RenderedManifest {
        switch route.kind {
        case .httproute: return httpRoute(route, spec, workload)
        case .ingress: return ingress(route, spec, workload)
        }
    }

    /// A Gateway API route attached to the Gateway's HTTPS listener, which holds the
    /// certificate: the route itself has no TLS settings.
    static func httpRoute(_ route: KubernetesSpec.Route, _ spec: KubernetesSpec,
                          _ workload: KubernetesWorkload) -> RenderedManifest {
        var parent: [(String, ManifestNode)] = [
            ("group", .string("gateway.networking.k8s.io")), ("kind", .string("Gateway")),
        ]
        if let gateway = route.gateway {
            parent.append(("name", .string(gateway.name)))
            if let namespace = gateway.namespace { parent.append(("namespace", .string(namespace))) }
            parent.append(("sectionName", .string(gateway.section)))
        }
        return manifest(rank: "30", apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", name: workload.name,
                        spec: spec, workload: workload, body: .map([
                            ("parentRefs", .list([.map(parent)])),
                            ("hostnames", .strings([route.host])),
                            ("rules", .list([.map([
                                ("matches", .list([.map([("path", .map([
                                    ("type", .string("PathPrefix")), ("value", .string(route.path)),
                                ]))])])),
                                ("backendRefs", .list([.map([
                                    ("name", .string(workload.name)), ("port", .int(workload.port)),
                                ])])),
                            ])])),
                        ]))
    }

    static func ingress(_ route: KubernetesSpec.Route, _ spec: KubernetesSpec,
                        _ workload: KubernetesWorkload) -> RenderedManifest {
        var body: [(String, ManifestNode)] = []
        if let ingressClass = route.ingressClass { body.append(("ingressClassName", .string(ingressClass))) }
        body.append(("tls", .list([.map([
            ("hosts", .strings([route.host])), ("secretName", .string(route.tlsSecret ?? "")),
        ])])))
        body.append(("rules", .list([.map([
            ("host", .string(route.host)),
            ("http", .map([("paths", .list([.map([
                ("path", .string(route.path)),
                ("pathType", .string("Prefix")),
                ("backend", .map([("service", .map([
                    ("name", .string(workload.name)),
                    ("port", .map([("number", .int(workload.port))])),
                ]))])),
            ])]))])),
        ])])))
        return manifest(rank: "30", apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: workload.name,
                        spec: spec, workload: workload, body: .map(body))
    }

    // MARK: Mesh

    /// PeerAuthentication for the model's pods, and an ALLOW AuthorizationPolicy when
    /// callers are named (each principal list and namespace list is its own `from`, so
    /// either admits).
    static func istio(_ istio: KubernetesSpec.Istio, _ spec: KubernetesSpec,
                      _ workload: KubernetesWorkload) -> [RenderedManifest] {
        let selector = ManifestNode.map([("matchLabels", .sorted(workload.selector))])
        var manifests = [manifest(rank: "31", apiVersion: "security.istio.io/v1", kind: "PeerAuthentication",
                                  name: workload.name, spec: spec, workload: workload, body: .map([
                                    ("selector", selector),
                                    ("mtls", .map([("mode", .string(istio.mtlsMode))])),
                                  ]))]
        var sources: [ManifestNode] = []
        if !istio.allowedPrincipals.isEmpty {
            sources.append(.map([("source", .map([("principals", .strings(istio.allowedPrincipals))]))]))
        }
        if !istio.allowedNamespaces.isEmpty {
            sources.append(.map([("source", .map([("namespaces", .strings(istio.allowedNamespaces))]))]))
        }
        if !sources.isEmpty {
            manifests.append(manifest(rank: "32", apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy",
                                      name: workload.name, spec: spec, workload: workload, body: .map([
                                        ("selector", selector),
                                        ("action", .string("ALLOW")),
                                        ("rules", .list([.map([("from", .list(sources))])])),
                                      ])))
        }
        return manifests
    }

    // MARK: Monitoring

    /// Prometheus Operator scrapes `/metrics` on the Service's `http` port.
    static func serviceMonitor(_ spec: KubernetesSpec, _ workload: KubernetesWorkload) -> RenderedManifest {
        manifest(rank: "40", apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", name: workload.name,
                 spec: spec, workload: workload, body: .map([
                    ("selector", .map([("matchLabels", .sorted(workload.selector))])),
                    ("namespaceSelector", .map([("matchNames", .strings([spec.namespace]))])),
                    ("endpoints", .list([.map([
                        ("port", .string("http")),
                        ("path", .string(metricsPath)),
                        ("interval", .string(spec.serviceMonitor.interval)),
                        ("scheme", .string("http")),
                    ])])),
                 ]), extraLabels: spec.serviceMonitor.labels)
    }
}
