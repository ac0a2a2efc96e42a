import ArgumentParser
import Foundation
import PipelineEngine
import StageKinds

/// `mlpipe export`: the pipeline as a workflow of another engine.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the pipeline as a workflow of another engine.",
        subcommands: [Argo.self])

    /// `mlpipe export argo`: an Argo Workflows DAG, one pod per stage.
    struct Argo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "argo",
            abstract: "Write an Argo Workflows Workflow: one DAG task per stage, each running `mlpipe run --only STAGE` at this commit.")

        @OptionGroup var selection: PipelineSelection

        @OptionGroup var cluster: ClusterFlags

        @Option(name: .long, help: ArgumentHelp("The run store the pods record in, set as MLPIPE_STORE (no password in it).", valueName: "url"))
        var store: String?

        @Option(name: .long, help: ArgumentHelp("A Secret with `username` and `password` for cloning the repository.", valueName: "name"))
        var gitCredentials: String?

        @Flag(name: .long, help: "Write a WorkflowTemplate (for `argo submit --from workflowtemplate/NAME`) instead of a Workflow.")
        var template = false

        @Flag(name: .long, help: "Ask the remote cache for each stage's key and leave out the stages it has.")
        var pruneCached = false

        @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the YAML to this file instead of standard output.", valueName: "file"))
        var output: String?

        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let run = RunOptions(pipeline: selection.pipeline, params: selection.overrides,
                                 workspace: workspace.resolved, remote: remote.remote)
            var cluster = self.cluster.options
            cluster.store = store
            let export = try await PipelineRunner(kinds: BuiltinKinds.registry(), version: MLPipe.version)
                .exportArgo(ExportOptions(run: run, cluster: cluster, template: template, pruneCached: pruneCached,
                                          gitCredentials: gitCredentials))
            for (stage, origin) in export.pruned {
                Console.shared.error("pruned \(stage): cached on the remote (\(origin))")
            }
            guard let output else {
                Console.shared.out(export.yaml)
                return
            }
            do {
                try Data(export.yaml.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw EngineError(.environment, "cannot write the workflow to \(output): \(error.localizedDescription)", cause: error)
            }
            Console.shared.error("wrote \(output): \(export.tasks.count) task(s) at commit \(export.commit.prefix(12))"
                                 + (export.pruned.isEmpty ? "" : ", \(export.pruned.count) pruned"))
        }
    }
}

/// Where pods run and what they share: `export argo` and `run --executor kubernetes`.
struct ClusterFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The image each stage's pod runs: mlpipe, git and the pipeline's tools (default: \(ClusterOptions.defaultImage(version: MLPipe.version))).", valueName: "ref"))
    var image: String?

    @Option(name: .long, help: ArgumentHelp("The URL pods clone (default: the `origin` remote).", valueName: "url"))
    var repo: String?

    @Option(name: .long, help: "The namespace of the Workflow or Jobs (default: none written; the kubeconfig's).")
    var namespace: String?

    @Option(name: .long, help: "The pods' service account (default: the namespace's); the one a pod's Vault login (VAULT_K8S_ROLE) is bound to.")
    var serviceAccount: String?

    @Option(name: .long, help: ArgumentHelp("The Kubernetes Secret with the pipeline's secrets, one key per secret name (default: mlpipe-PIPELINE).", valueName: "name"))
    var secret: String?

    var options: ClusterOptions {
        ClusterOptions(image: image ?? ClusterOptions.defaultImage(version: MLPipe.version), namespace: namespace,
                       serviceAccount: serviceAccount, repository: repo, secretName: secret)
    }
}
