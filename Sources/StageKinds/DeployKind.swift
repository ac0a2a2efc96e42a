import Canonical
import Deployment
import Foundation
import ModelRegistry
import PipelineEngine
import PipelineSpec
import RunStore

/// `kind: deploy`: starts a registered model version as a local service on 127.0.0.1,
/// beside the deployment it replaces, and moves an alias to it once it is ready; or, with
/// `target: kubernetes` or `knative`, renders the manifests that run the version's image
/// on a cluster and applies them when asked (see `DeployKind+Cluster.swift`).
///
/// The version comes from the model registry (`model: iris@staging`): the workspace's, or
/// the MLflow tracking server `registry:` names (`DeployRegistry`); its package is the folder given as `package`, or found among the outputs of the run that
/// registered it, and must have the version's package digest. The runtime is the venv in
/// `MLPIPE_VENV` when set, else one built under `workspace/deploy/venvs/` once per set of
/// requirements (the serving app's and the package's). The service outlives mlpipe; the
/// deployment it replaces keeps serving until a smoke test confirms the new one (see
/// `SmokeTestKind`). Results: `endpoint`, `deployment` (its id), `version`, `host` (the
/// host name in `endpoint`: 127.0.0.1, or the Service's cluster DNS name) and `manifests`
/// (the rendered files' paths; empty for a local deployment).
///
/// Never cached: a deployment is an effect, not a file.
public struct DeployKind: StageKind {
    public init() {}

    public var schema: KindSchema {
        KindSchema(name: "deploy", settings: DeploySettings.self,
                   results: ["endpoint", "deployment", "version", "host", "manifests"], cachedByDefault: false)
    }

    /// 2: the cluster targets, and the `host` and `manifests` results.
    public var implementationVersion: String { "2" }

    /// The token's secret, the MLflow token's, and the kubeconfig's when the manifests
    /// are applied.
    public func secrets(for settings: DeploySettings) -> [String] {
        [settings.token, settings.registry.tokenSecret, settings.apply ? settings.kubeconfig : nil].compactMap { $0 }
    }

    /// Deploys; see the type's documentation.
    public func run(_ context: StageContext, settings: DeploySettings) async throws -> StageResult {
        if settings.target.isCluster { return try await runCluster(context, settings: settings) }
        let registry = try settings.registry.open(context)
        let version = try await DeployRegistry.resolve(settings.model, in: registry)
        let name = settings.name ?? version.name
        context.log.line("deploy: \(settings.model) is \(version.name)@\(version.version) in the "
                         + "\(DeployRegistry.name(of: registry.location)) (package \(version.packageDigest)"
                         + (version.imageDigest.map { ", image \($0)" } ?? "") + ")")
        let package = try await DeployPackage.locate(settings.package, for: version, in: registry.location, context: context)
        let template = RegisterKind.absolute(settings.template, in: context)
        let python = try await runtime(for: package, template: template, context: context)
        var aliasWas: Int?
        if let alias = settings.promote {
            aliasWas = try await DeployRegistry.holder(of: alias, name: version.name, in: registry)
        }
        let token = try settings.token.map { secret -> (secret: String, value: String) in
            guard let value = context.secrets[secret] else {
                throw StageFailure("deploy: the secret '\(secret)' named by `token` was not given to the stage; "
                                   + "list it under the stage's `secrets:`")
            }
            return (secret, value)
        }
        let request = LocalDeployRequest(
            name: name, model: version.name, version: version.version, package: package.folder, app: template,
            python: python, port: settings.port, environment: settings.environment, token: token,
            tlsCertificate: settings.tls.map { RegisterKind.absolute($0.cert, in: context) },
            tlsKey: settings.tls.map { RegisterKind.absolute($0.key, in: context) },
            readyTimeout: settings.readyTimeout, alias: settings.promote, aliasWas: aliasWas,
            aliasRegistry: settings.registry.aliasRegistry, runID: context.runID, stage: context.stageName)
        let record: DeploymentRecord
        do {
            record = try await LocalDeployer(workspace: context.workspace).deploy(request) { context.log.line($0) }
        } catch let error as DeploymentError {
            throw StageFailure("deploy: \(error)")
        }
        context.log.line("deployment #\(record.id): \(record.modelVersion) ready at \(record.endpoint)")
        if let alias = settings.promote {
            do {
                _ = try await registry.setAlias(alias, name: version.name, version: version.version,
                                                by: RegisterKind.provenance(context, fallbackCommit: nil))
            } catch {
                throw StageFailure("deploy: deployment #\(record.id) (\(record.modelVersion)) is ready at "
                                   + "\(record.endpoint), but alias '\(alias)' could not be moved to it in the "
                                   + "\(DeployRegistry.name(of: registry.location)): \(error); run the stage again, "
                                   + "or undo the deployment with `mlpipe deployments rollback \(name)`")
            }
            context.log.line("alias \(alias) -> \(version.name)@\(version.version)"
                             + (aliasWas.map { " (was \($0)); a failed smoke test moves it back" } ?? " (new)"))
        }
        return StageResult(results: [
            "endpoint": .string(record.endpoint.description), "deployment": .int(Int(record.id)),
            "version": .int(version.version), "host": .string(record.endpoint.host), "manifests": .array([]),
        ])
    }

    /// The Python to run the app with: `MLPIPE_VENV`'s, or the runtime venv for these
    /// requirements, built through the stage's executor when it is not there yet.
    func runtime(for package: DeployPackage, template: String, context: StageContext) async throws -> String {
        let environment = context.inheritedEnvironment.merging(context.environment) { $1 }
        if let venv = environment["MLPIPE_VENV"], !venv.isEmpty {
            let python = RegisterKind.absolute(venv, in: context) + "/bin/python"
            context.log.line("runtime: \(python) (MLPIPE_VENV)")
            return python
        }
        let appRequirements: String
        do {
            appRequirements = try String(contentsOfFile: template + "/requirements.txt", encoding: .utf8)
        } catch {
            throw StageFailure("deploy: cannot read the serving app's requirements (\(template)/requirements.txt): "
                               + "\(error.localizedDescription); point `template:` at the serving app's folder")
        }
        let lines = RuntimeVenv.lines(appRequirements: appRequirements, packageRequirements: package.requirements)
        let venv = RuntimeVenv(root: context.workspace + "/deploy/venvs", basePython: "python3")
        return try await venv.prepare(lines: lines, run: { argv, what in
            let spec = ProcessSpec(stageName: context.stageName, command: .argv(argv),
                                   workingDirectory: context.repositoryRoot, environment: context.environment,
                                   inheritedEnvironment: context.inheritedEnvironment, timeout: context.timeout)
            let outcome = try await context.executor.execute(spec, log: context.log)
            switch outcome {
            case .exited(0): return
            case .cancelled: throw StageFailure("deploy: cancelled while trying to \(what)", reason: .cancelled)
            case .timedOut: throw StageFailure("deploy: timed out while trying to \(what)", reason: .timedOut)
            default:
                throw StageFailure("deploy: cannot \(what) (exit \(outcome.exitCode.map(String.init) ?? "?"); "
                                   + "the output is in the log); check the requirement lines and that pip can reach "
                                   + "its index, or set MLPIPE_VENV to a venv that has them")
            }
        }, log: { context.log.line($0) })
    }
}
