/// Renders a Knative Service (serving.knative.dev/v1) that runs a model version, from a
/// `KnativeSpec` and a `KubernetesWorkload`.
///
/// The revision is named `NAME-vVERSION` (`iris-v3`), so that the next deploy can split
/// traffic between it and its successor by name. Scaling is set by annotations on the
/// revision template (`autoscaling.knative.dev/min-scale`, `max-scale`, `target`); with
/// `traffic`, `percent` of requests go to the new revision (tagged `tag`) and the rest to
/// the previous one (tagged `previous_tag`); without it, the new revision takes all.
/// The container is the same as the Deployment's (non-root, read-only root filesystem,
/// no capabilities, requests and limits, V2 health probes), without a port name, which
/// Knative reserves.
public enum KnativeRenderer {
    /// The Knative Service for `workload`.
    ///
    /// - Parameter previousRevision: the revision the last deploy of this model created
    ///   (its `KubernetesRendering.revisionName`), used when `traffic.previous_revision`
    ///   is not set.
    public static func render(_ spec: KnativeSpec, for workload: KubernetesWorkload,
                              previousRevision: String? = nil) throws(KubernetesError) -> KubernetesRendering {
        try workload.check()
        let revision = "\(workload.name)-\(workload.revisionSuffix)"
        guard revision.utf8.count <= 63 else { throw .revisionNameTooLong(revision) }
        var annotations = ["autoscaling.knative.dev/min-scale": String(spec.minScale)]
        if let maxScale = spec.maxScale { annotations["autoscaling.knative.dev/max-scale"] = String(maxScale) }
        if let target = spec.target { annotations["autoscaling.knative.dev/target"] = String(target) }

        var traffic: [ManifestNode]
        if let split = spec.traffic {
            guard let previous = split.previousRevision ?? previousRevision else {
                throw .noPreviousRevision(service: workload.name)
            }
            traffic = [
                .map([("revisionName", .string(revision)), ("percent", .int(split.percent)), ("tag", .string(split.tag))]),
                .map([("revisionName", .string(previous)), ("percent", .int(100 - split.percent)),
                      ("tag", .string(split.previousTag))]),
            ]
        } else {
            traffic = [.map([("revisionName", .string(revision)), ("percent", .int(100))])]
        }
        let container = KubernetesRenderer.container(resources: spec.resources, gpu: nil, secrets: spec.secrets,
                                                     workload: workload, probePort: nil)
        let body = ManifestNode.map([
            ("template", .map([
                ("metadata", .map([
                    ("name", .string(revision)),
                    ("labels", .sorted(workload.labels)),
                    ("annotations", .sorted(annotations)),
                ])),
                ("spec", .map([
                    ("containerConcurrency", .int(0)),
                    ("containers", .list([container])),
                    ("volumes", .list([KubernetesRenderer.tmpVolume])),
                ])),
            ])),
            ("traffic", .list(traffic)),
        ])
        let document = ManifestNode.map([
            ("apiVersion", .string("serving.knative.dev/v1")),
            ("kind", .string("Service")),
            ("metadata", .map([
                ("name", .string(workload.name)), ("namespace", .string(spec.namespace)),
                ("labels", .sorted(workload.labels)),
            ])),
            ("spec", body),
        ])
        let host = "\(workload.name).\(spec.namespace).svc.cluster.local"
        return KubernetesRendering(
            manifests: [RenderedManifest(fileName: "10-knative-service.yaml", kind: "Service", text: document.yaml)],
            serviceHost: host, endpoint: ServiceEndpoint(scheme: "http", host: host, port: 80),
            namespace: spec.namespace, rolloutResource: "ksvc/\(workload.name)", revisionName: revision)
    }
}
