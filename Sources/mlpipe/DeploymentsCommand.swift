import ArgumentParser
import Canonical
import Deployment
import Foundation
import ModelRegistry
import PipelineEngine
import PipelineSpec
import StageKinds

/// `mlpipe deployments list|stop|rollback`: the model versions running as local services.
///
/// A `DeploymentError` is printed once and ends the command with 2 (an unknown name,
/// nothing to roll back) or 3 (environment: the database, a service that would not start).
struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments",
        abstract: "List deployments (local processes and rendered or applied cluster ones); stop or roll back a local one.",
        subcommands: [List.self, Stop.self, Rollback.self],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Every deployment, oldest first; one whose process is gone shows as dead.")

        @Argument(help: "Only the deployments of this name.") var name: String?
        @Flag(name: .long, help: "Print a JSON array.") var json = false
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let records = try await DeploymentsCommand.call(workspace) { deployer in
                try deployer.store.list(name: name)
            }
            let console = Console.shared
            if json {
                console.out(Value.array(records.map { .object(DeploymentsCommand.json($0)) }).canonicalJSON())
                return
            }
            if records.isEmpty { console.out("no deployments yet"); return }
            console.out("ID    NAME         MODEL          STATE        ENDPOINT                  PID      STARTED              SMOKE")
            for record in records {
                let smoke = record.smoke.map { $0.passed ? "passed" : "failed" } ?? "-"
                console.out([col("#\(record.id)", 5), col(record.name, 12), col(record.modelVersion, 14),
                             col(record.state, 12), col(record.endpoint.description, 25), col(record.pid > 0 ? String(record.pid) : "-", 8),
                             col(LocalTime.timestamp(record.createdAt), 20), smoke].joined(separator: " "))
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop", abstract: "Stop every running deployment of a name (SIGTERM: in-flight requests finish).")

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let stopped = try await DeploymentsCommand.call(workspace) { deployer in
                try await deployer.stop(name: name)
            }
            if stopped.isEmpty { Console.shared.out("\(name): nothing was running") }
            for record in stopped {
                Console.shared.out("stopped deployment #\(record.id) (\(record.modelVersion), pid \(record.pid), "
                                   + "\(record.endpoint))")
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Stop a name's current deployment, serve the one it replaced, and move the alias back "
                + "(in MLflow too, when the deploy moved it there; its token from the environment variable it names).")

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let provenance = Provenance(runID: nil, commit: ModelsCommand.Alias.headCommit(), user: RegistryOptions.user)
            let outcome = try await DeploymentsCommand.call(workspace) { deployer in
                try await DeployRollback.rollback(name: name, workspace: deployer.workspace, provenance: provenance,
                                                  environment: ProcessInfo.processInfo.environment) { _ in }
            }
            let stopped = outcome.rollback.stopped
            let console = Console.shared
            console.out("stopped deployment #\(stopped.id) (\(stopped.modelVersion))")
            if let restored = outcome.rollback.restored {
                console.out("\(name) is served by deployment #\(restored.id) (\(restored.modelVersion)) at "
                            + "\(restored.endpoint)\(outcome.rollback.restarted ? ", started again" : "")")
            }
            if let alias = outcome.alias {
                let place = stopped.launch?.aliasRegistry.map { " in the MLflow registry at \($0.trackingURI)" } ?? ""
                console.out("\(stopped.model)@\(alias.name) -> version \(alias.version) (was \(stopped.version))\(place)")
            }
        }
    }

    /// Opens the workspace's deployments and runs `body`; a `DeploymentError` or a
    /// `RegistryError` is printed and becomes exit status 2 or 3.
    static func call<T>(_ options: WorkspaceOptions, _ body: (LocalDeployer) async throws -> T) async throws -> T {
        let located = try Workspace.located(RunOptions(workspace: options.resolved))
        do {
            return try await body(LocalDeployer(workspace: located.root))
        } catch let error as DeploymentError {
            Console.shared.error("mlpipe: error: \(error)")
            throw ExitCode(error.code == .notFound || error.code == .usage ? 2 : 3)
        } catch let error as RegistryError {
            Console.shared.error("mlpipe: error: " + RegistryOptions.render(error))
            throw ExitCode(error.isUsage ? 2 : 3)
        }
    }

    /// One deployment as `list --json` prints it.
    static func json(_ record: DeploymentRecord) -> [String: Value] {
        [
            "id": .int(Int(record.id)), "name": .string(record.name), "target": .string(record.target),
            "model": .string(record.model), "version": .int(record.version), "state": .string(record.state),
            "status": .string(record.status.rawValue), "endpoint": .string(record.endpoint.description),
            "pid": .int(Int(record.pid)), "pidStartTime": .int(Int(record.pidStartTime)), "host": .string(record.host),
            "logPath": .string(record.logPath), "alias": JSONOutput.string(record.alias),
            "aliasWas": record.aliasWas.map { .int($0) } ?? .null, "replaces": JSONOutput.int(record.replaces),
            "aliasRegistry": registry(of: record),
            "runId": JSONOutput.int(record.runID), "stage": JSONOutput.string(record.stage),
            "createdAt": JSONOutput.date(record.createdAt), "stoppedAt": JSONOutput.date(record.stoppedAt),
            "smoke": record.smoke.map(smoke) ?? .null,
        ]
    }

    /// Where the deploy moved its alias: `local`, `mlflow:<tracking URI>`, or null for a
    /// cluster deployment (whose rollback is the cluster's).
    static func registry(of record: DeploymentRecord) -> Value {
        guard let launch = record.launch else { return .null }
        return .string(launch.aliasRegistry.map { "mlflow:" + $0.trackingURI } ?? "local")
    }

    /// A smoke test's conclusion, as `list --json` and `models lineage --json` print it.
    static func smoke(_ outcome: SmokeVerdict) -> Value {
        .object(["passed": .bool(outcome.passed), "summary": .string(outcome.summary),
                 "report": JSONOutput.string(outcome.report), "runId": JSONOutput.int(outcome.runID),
                 "stage": JSONOutput.string(outcome.stage), "at": JSONOutput.date(outcome.at)])
    }
}
