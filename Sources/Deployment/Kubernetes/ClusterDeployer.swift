import Foundation
import RunStore

/// Deploys model versions to a Kubernetes cluster, as plain objects or as a Knative
/// Service: the `kubernetes` and `knative` targets of `kind: deploy`.
///
/// The steps, each recorded in the `deployment` table that `mlpipe deployments list`
/// reads:
/// 1. render the manifests (`KubernetesRenderer`, `KnativeRenderer`) into the request's
///    folder, removing the ones an earlier rendering there no longer makes;
/// 2. record the deployment as `rendered`: target, model version, the endpoint
///    `http://NAME.NAMESPACE.svc.cluster.local:PORT`, the manifests' folder, run and stage;
/// 3. with `apply`, write the kubeconfig to a private file, run `KubectlApplier` (apply,
///    rollout status, undo of a failed rollout), remove the file, and record `applied`,
///    or `failed` with kubectl's last words. The applied deployment of the same name,
///    target and endpoint that it replaces becomes `stopped`.
///
/// No process of a cluster deployment runs here, so none of these states turns `dead`,
/// and `deployments stop` and `rollback`, which act on local processes, leave them alone.
///
/// A Knative traffic split needs the previous revision: unless the spec names it, it is
/// the revision of the newest earlier deployment of the same name and endpoint with
/// another version that was applied (or, when this one only renders, rendered).
public struct ClusterDeployer: Sendable {
    /// The deployments' table.
    public let store: DeploymentStore

    /// A deployer recording into the workspace at `workspace` (its `mlpipe.db`).
    public init(workspace: String) throws(DeploymentError) {
        store = try DeploymentStore(path: workspace + "/mlpipe.db")
    }

    /// A deployer recording into `store`.
    public init(store: DeploymentStore) {
        self.store = store
    }

    /// What a deploy made: the record, the rendering and the paths of its manifests.
    public struct Outcome: Sendable {
        /// The deployment as recorded (`rendered` or `applied`).
        public var record: DeploymentRecord
        /// The manifests and the Service's DNS name.
        public var rendering: KubernetesRendering
        /// Each manifest's absolute path, in apply order.
        public var manifestPaths: [String]
    }

    /// Renders, records and (with `request.apply`) applies; see the type's documentation.
    ///
    /// - Parameter log: receives what is done, kubectl's command lines (with the
    ///   kubeconfig's path, never its content) and their output.
    public func deploy(_ request: ClusterDeployRequest,
                       log: @Sendable (String) -> Void) async throws(DeploymentError) -> Outcome {
        let workload = KubernetesWorkload(name: request.name, version: String(request.version), image: request.image)
        let host = "\(request.name).\(request.target.namespace).svc.cluster.local"
        let earlier = try store.list(name: request.name)
            .filter { $0.target == request.target.name && $0.endpoint.host == host }
        let rendering = try render(request, workload: workload, earlier: earlier)
        do throws(KubernetesError) {
            try rendering.write(to: request.directory)
        } catch {
            throw DeploymentError(.files, error.description, remedy: "check that the stage's folder is writable",
                                  cause: error)
        }
        let paths = rendering.manifests.map { request.directory.appendingPathComponent($0.fileName).path }
        log("rendered \(rendering.manifests.count) manifests into \(request.directory.path): "
            + rendering.manifests.map(\.kind).joined(separator: ", "))
        let replaced = earlier.last { $0.status == .applied }
        var record = try store.insert(DeploymentRecord(
            id: 0, name: request.name, target: request.target.name, model: request.model, version: request.version,
            endpoint: rendering.endpoint, status: .rendered, pid: 0, pidStartTime: 0, host: ProcessIdentity.hostName(),
            folder: request.directory.path, logPath: "", alias: request.alias, aliasWas: request.aliasWas,
            replaces: request.apply == nil ? nil : replaced?.id, runID: request.runID, stage: request.stage,
            createdAt: Date(), launch: nil))
        guard let apply = request.apply else {
            log("deployment #\(record.id): \(record.modelVersion) rendered for \(host), not applied (`apply: true` "
                + "with a kubeconfig applies it)")
            return Outcome(record: record, rendering: rendering, manifestPaths: paths)
        }
        try await self.apply(request.directory, rendering: rendering, with: apply, record: record.id, log: log)
        for old in earlier where old.status == .applied {
            try store.setStatus(.stopped, of: old.id)
        }
        try store.setStatus(.applied, of: record.id)
        record.status = .applied
        log("deployment #\(record.id): \(record.modelVersion) applied; it answers in the cluster at \(record.endpoint)"
            + (replaced.map { " in place of deployment #\($0.id) (\($0.modelVersion))" } ?? ""))
        return Outcome(record: record, rendering: rendering, manifestPaths: paths)
    }

    // MARK: - Steps

    /// The manifests of `request`, for `workload`.
    func render(_ request: ClusterDeployRequest, workload: KubernetesWorkload,
                earlier: [DeploymentRecord]) throws(DeploymentError) -> KubernetesRendering {
        do throws(KubernetesError) {
            switch request.target {
            case .kubernetes(let spec):
                return try KubernetesRenderer.render(spec, for: workload)
            case .knative(let spec):
                let counted: Set<DeploymentStatus> = request.apply == nil ? [.applied, .rendered] : [.applied]
                let previous = earlier.last { counted.contains($0.status) && $0.version != request.version }
                let revision = previous.map {
                    "\($0.name)-" + KubernetesWorkload(name: $0.name, version: String($0.version), image: "").revisionSuffix
                }
                return try KnativeRenderer.render(spec, for: workload, previousRevision: revision)
            }
        } catch {
            throw DeploymentError(.usage, error.description, remedy: "", cause: error)
        }
    }

    /// Applies with the kubeconfig in a private file, removed whatever happens; a failure
    /// records deployment `id` as `failed`.
    func apply(_ directory: URL, rendering: KubernetesRendering, with apply: ClusterApply, record id: Int64,
               log: @Sendable (String) -> Void) async throws(DeploymentError) {
        let kubeconfig: KubeconfigFile
        do throws(DeploymentError) {
            kubeconfig = try KubeconfigFile(contents: apply.kubeconfig)
        } catch {
            try store.setStatus(.failed, of: id)
            throw error
        }
        defer { kubeconfig.remove() }
        let applier = KubectlApplier(kubeconfig: kubeconfig.path, executable: apply.kubectl,
                                     timeoutSeconds: apply.timeoutSeconds)
        do throws(KubernetesError) {
            try await applier.apply(directory, rendering: rendering, log: log)
        } catch {
            try store.setStatus(.failed, of: id)
            let code: DeploymentError.Code = switch error {
            case .kubectlNotStarted: .spawn
            case .writeFailed: .files
            default: .notReady
            }
            throw DeploymentError(code, error.description, remedy: "", cause: error)
        }
    }
}
