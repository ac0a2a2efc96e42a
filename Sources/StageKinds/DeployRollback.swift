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
/// `models history`).
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
        let registry = try LocalModelRegistry(path: workspace + "/mlpipe.db")
        _ = try await registry.setAlias(alias, name: stopped.model, version: back, by: provenance)
        log("alias \(alias) -> \(stopped.model)@\(back) (moved back from \(stopped.version))")
        return Outcome(rollback: rollback, alias: (alias, back))
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
