import Deployment
import Foundation
import ModelRegistry
import PipelineEngine
import PipelineSpec

extension DeployKind {
    /// The `kubernetes` and `knative` targets: renders the manifests that run the version's
    /// image (by digest, from the registry) into the stage's `manifests` output, or its
    /// `manifests/` folder when it declares none, records the deployment, and with
    /// `apply: true` applies them with kubectl and the kubeconfig from the secret
    /// `kubeconfig` names (`ClusterDeployer`). `promote` moves its alias once the rollout
    /// has finished.
    ///
    /// Results: `endpoint` (`http://NAME.NAMESPACE.svc.cluster.local:PORT`, reachable
    /// from inside the cluster), `host` (the Service's DNS name), `manifests` (the files'
    /// paths, in apply order), `deployment` and `version`.
    func runCluster(_ context: StageContext, settings: DeploySettings) async throws -> StageResult {
        let registry = try settings.registry.open(context)
        let version = try await DeployRegistry.resolve(settings.model, in: registry)
        let reference = "\(version.name)@\(version.version)"
        let name = settings.name ?? version.name
        let target: ClusterDeployRequest.Target
        switch (settings.target, settings.kubernetes, settings.knative) {
        case (.kubernetes, let spec?, _): target = .kubernetes(spec)
        case (.knative, _, let spec?): target = .knative(spec)
        default:
            throw StageFailure("deploy: `target: \(settings.target.rawValue)` needs its spec under "
                               + "`\(settings.target.rawValue):`; add `\(settings.target.rawValue): "
                               + "{ \(DeploySettings.resourcesExample) }`")
        }
        guard let image = version.image else {
            throw StageFailure("deploy: \(reference) in the \(DeployRegistry.name(of: registry.location)) was "
                               + "registered without an image reference (image digest: \(version.imageDigest ?? "none")), "
                               + "and a cluster pulls the image by REGISTRY/REPOSITORY@sha256:…; register the version "
                               + "with `image: ${{ stages.NAME.results.reference }}` from a containerize stage that pushes")
        }
        context.log.line("deploy: \(settings.model) is \(reference) (image \(image)); target \(target.name)")
        var apply: ClusterApply?
        var masker = SecretMasker.none
        if settings.apply {
            guard let secret = settings.kubeconfig, let kubeconfig = context.secrets[secret] else {
                throw StageFailure("deploy: the secret '\(settings.kubeconfig ?? "")' named by `kubeconfig` was not "
                                   + "given to the stage; list it under the stage's `secrets:`")
            }
            masker = Self.kubeconfigMasker(kubeconfig)
            apply = ClusterApply(kubeconfig: kubeconfig,
                                 kubectl: settings.kubectl.map { RegisterKind.absolute($0, in: context) } ?? "kubectl",
                                 timeoutSeconds: settings.rolloutTimeout)
        }
        var aliasWas: Int?
        if let alias = settings.promote {
            aliasWas = try await DeployRegistry.holder(of: alias, name: version.name, in: registry)
        }
        let folder = context.outputs["manifests"] ?? context.outputDirectory + "/manifests"
        let request = ClusterDeployRequest(
            name: name, model: version.name, version: version.version, image: image, target: target,
            directory: URL(fileURLWithPath: folder), apply: apply, alias: settings.promote, aliasWas: aliasWas,
            runID: context.runID, stage: context.stageName)
        let outcome: ClusterDeployer.Outcome
        do {
            let log = context.log
            outcome = try await ClusterDeployer(workspace: context.workspace)
                .deploy(request) { [masker] line in log.line(masker.mask(line)) }
        } catch {
            throw StageFailure(masker.mask("deploy: \(error)"))
        }
        if let alias = settings.promote, outcome.record.status == .applied {
            _ = try await registry.setAlias(alias, name: version.name, version: version.version,
                                            by: RegisterKind.provenance(context, fallbackCommit: nil))
            context.log.line("alias \(alias) -> \(reference)" + (aliasWas.map { " (was \($0))" } ?? " (new)"))
        }
        return StageResult(results: [
            "endpoint": .string(outcome.record.endpoint.description), "host": .string(outcome.rendering.serviceHost),
            "manifests": .array(outcome.manifestPaths.map(Value.string)), "deployment": .int(Int(outcome.record.id)),
            "version": .int(version.version),
        ])
    }

    /// Keys of a kubeconfig whose values are credentials.
    static let kubeconfigCredentialKeys: Set<String> = [
        "token", "password", "client-key-data", "client-certificate-data", "id-token", "refresh-token",
        "access-token", "client-secret",
    ]

    /// A masker for what kubectl prints, beside the run's own (which hides the kubeconfig
    /// only where it appears whole): each credential in it too, since kubectl's output
    /// reaches the error joined on one line, and a single credential may be quoted alone.
    static func kubeconfigMasker(_ kubeconfig: String) -> SecretMasker {
        let quotes = CharacterSet(charactersIn: "\"'")
        var values = [kubeconfig]
        for line in kubeconfig.split(whereSeparator: \.isNewline) {
            var text = line.drop { $0 == " " || $0 == "\t" || $0 == "-" }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let key = text[..<colon].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: quotes)
            guard kubeconfigCredentialKeys.contains(key) else { continue }
            text = text[text.index(after: colon)...]
            let value = text.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: quotes)
            // Shorter values would mask ordinary words; the run refuses secrets that short too.
            if value.utf8.count >= 4 { values.append(value) }
        }
        return SecretMasker(values: values)
    }
}
