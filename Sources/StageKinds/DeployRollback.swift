import Deployment
import Foundation
import ModelRegistry

/// A local deployment's rollback and confirmation, with the alias its deploy moved: what a
/// smoke test does with its verdict, and what `mlpipe deployments rollback` does.
///
/// The deployment layer stops and starts processes and knows nothing of the registry; the
/// registry knows nothing of processes. This is where the two meet: a rollback stops the
/// new deployment, lets the one it replaced serve (starting it again if it had stopped),
/// and moves the alias back to the version it held before the deploy (both moves stay in
/// `models history`), in the registry the deploy moved it in: the workspace's, or the
/// MLflow server recorded with the deployment (`AliasRegistry`), whose token is read by
/// its secret's name from the environment given.
public enum DeployRollback {
    /// What a rollback did.
    public struct Outcome: Sendable {
        /// The stopped deployment and the one serving now.
        public var rollback: LocalDeployer.Rollback
        /// The alias moved back, and to which version; nil when the deploy moved none, or
        /// when the alias did not exist before it (an alias cannot be removed: it stays).
        public var alias: (name: String, version: Int)?
    }

    /// Rolls back deployment `id`; see the type's documentation.
    public static func rollback(_ id: Int64, workspace: String, provenance: Provenance,
                                environment: [String: String], log: @Sendable (String) -> Void) async throws -> Outcome {
        let deployer = try LocalDeployer(workspace: workspace)
        let rollback = try await deployer.rollback(id, environment: environment, log: log)
        let stopped = rollback.stopped
        guard let alias = stopped.alias else { return Outcome(rollback: rollback, alias: nil) }
        guard let back = stopped.aliasWas else {
            log("alias \(alias) stays at \(stopped.modelVersion): it did not exist before deployment #\(stopped.id), "
                + "and an alias cannot be removed; move it with `mlpipe models alias`")
            return Outcome(rollback: rollback, alias: nil)
        }
        let recorded = stopped.launch?.aliasRegistry
        do throws(RegistryError) {
            let registry = try DeployRegistry.open(recorded, workspace: workspace, environment: environment)
            _ = try await registry.setAlias(alias, name: stopped.model, version: back, by: provenance)
        } catch {
            throw aliasNotMovedBack(error, rollback: rollback, alias: alias, version: back)
        }
        log("alias \(alias) -> \(stopped.model)@\(back) (moved back from \(stopped.version)"
            + (recorded.map { " in the MLflow registry at \($0.trackingURI))" } ?? ")"))
        return Outcome(rollback: rollback, alias: (alias, back))
    }

    /// The error for an alias that could not be moved back after the processes were: it
    /// says what serves now, what the registry answered, and the command that finishes it.
    static func aliasNotMovedBack(_ error: RegistryError, rollback: LocalDeployer.Rollback, alias: String,
                                  version: Int) -> RegistryError {
        let stopped = rollback.stopped
        let recorded = stopped.launch?.aliasRegistry
        let serving = rollback.restored.map { ", and #\($0.id) (\($0.modelVersion)) serves again" } ?? ""
        let command = "mlpipe models alias \(stopped.model) \(version) \(alias)"
            + (recorded.map { " --tracking-uri \($0.trackingURI)" } ?? "")
        var fix = error.remedy
        if let secret = recorded?.tokenSecret, error.code == .unauthorized {
            fix += " (the token is read from the environment variable \(secret), or the stage's secret of that name)"
        }
        return RegistryError(error.code, "deployment #\(stopped.id) (\(stopped.modelVersion)) was rolled back\(serving), "
                             + "but alias '\(alias)' could not be moved back to version \(version): \(error.message)",
                             remedy: "\(fix); then move it with `\(command)`", subject: error.subject,
                             known: error.known, cause: error)
    }

    /// Rolls back the deployment of `name` that answers now.
    public static func rollback(name: String, workspace: String, provenance: Provenance,
                                environment: [String: String], log: @Sendable (String) -> Void) async throws -> Outcome {
        let deployer = try LocalDeployer(workspace: workspace)
        guard let current = try deployer.current(name: name) else {
            if try deployer.store.list(name: name).isEmpty { throw try deployer.unknownName(name) }
            throw DeploymentError(.usage, "no deployment of '\(name)' is running, so there is nothing to roll back",
                                  remedy: "see `mlpipe deployments list`")
        }
        guard current.replaces != nil else {
            throw DeploymentError(.usage, "deployment #\(current.id) (\(current.modelVersion)) is the first of "
                                  + "'\(name)': there is no earlier one to roll back to",
                                  remedy: "stop it with `mlpipe deployments stop \(name)`")
        }
        return try await rollback(current.id, workspace: workspace, provenance: provenance, environment: environment,
                                  log: log)
    }
}
