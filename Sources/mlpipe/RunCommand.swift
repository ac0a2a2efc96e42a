import ArgumentParser
import Foundation
import PipelineEngine
import PipelineSpec
import RunStore
import StageKinds

/// `mlpipe run`: runs a pipeline's stages that are not cached.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline: every stage whose inputs changed, the rest from cache.")

    @OptionGroup var selection: PipelineSelection

    @Option(name: .long, help: "Stages to run at once (default: the number of cores).")
    var jobs: Int?

    @Option(name: .long, help: "Run this stage even if a cached result exists (repeatable).")
    var force: [String] = []

    @Option(name: .long, help: "Run only this stage and the stages it needs (repeatable).")
    var only: [String] = []

    @Flag(name: .long, help: "Run every stage; neither read nor write the cache.")
    var noCache = false

    @Flag(name: .long, help: "Refuse to run (exit 3) when an input has uncommitted changes.")
    var requireClean = false

    @Option(name: .long, help: "Write a JUnit XML report (one testcase per stage) to this file.")
    var junit: String?

    @Flag(name: .long, help: "Print one JSON object per event.")
    var json = false

    @Option(name: .long, help: "A name for the run, shown by `mlpipe runs` (`runs --name` finds it).")
    var name: String?

    @Flag(name: .long, help: "With --only: take the stages it needs from the cache (local or remote), never compute them; fail when one is missing.")
    var cachedUpstream = false

    @Option(name: .long, help: ArgumentHelp("Record into the one run of this key, shared by the tasks of one workflow: the first creates it, each records its --only stages (default: $MLPIPE_RUN_KEY; in Argo, {{workflow.uid}}).", valueName: "key"))
    var runKey: String?

    @Option(name: .long, help: ArgumentHelp("Where stages run: local, or kubernetes (a Job per stage); over each stage's `executor:`.", valueName: "name"))
    var executor: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var cluster: ClusterFlags

    func validate() throws {
        guard jobs ?? 1 >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if cachedUpstream && only.isEmpty {
            throw ValidationError("--cached-upstream takes the stages that --only stages need from the cache; give --only STAGE too")
        }
        if let key = runKey ?? environmentRunKey, only.isEmpty {
            throw ValidationError("--run-key '\(key)' joins the run of a workflow whose tasks each run some stages; give the task's stages with --only STAGE")
        }
        if let executor, StageExecutorName(rawValue: executor) == nil {
            throw ValidationError("unknown executor '\(executor)'; use \(StageExecutorName.allCases.map(\.rawValue).joined(separator: " or "))")
        }
    }

    func run() async throws {
        var options = RunOptions(
            pipeline: selection.pipeline, params: selection.overrides, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
            force: Set(force), only: Set(only), noCache: noCache, requireClean: requireClean,
            trigger: ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } == true ? .ci : .cli,
            workspace: workspace.resolved, remote: remote.remote, remoteRequired: remote.remoteRequired, runName: name)
        options.cachedUpstream = cachedUpstream
        options.runKey = runKey ?? environmentRunKey
        options.executor = executor.flatMap(StageExecutorName.init(rawValue:))
        options.cluster = cluster.options
        let runner = PipelineRunner(kinds: BuiltinKinds.registry(), version: MLPipe.version)
        let renderer = RunRenderer(json: json)
        let chosen = options
        let report = try await Interrupts.run { try await runner.run(chosen, events: renderer.handle) }
        try finish(report, junit: junit)
    }
}

extension RunCommand {
    /// `MLPIPE_RUN_KEY`, what an exported Argo workflow sets (to `{{workflow.uid}}`); nil
    /// when unset or empty.
    var environmentRunKey: String? {
        ProcessInfo.processInfo.environment["MLPIPE_RUN_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Writes the JUnit report and exits with the run's status.
func finish(_ report: RunReport, junit: String?) throws {
    if let junit {
        do {
            try Data(JUnitReport.xml(report).utf8).write(to: URL(fileURLWithPath: junit), options: .atomic)
        } catch {
            throw EngineError(.environment, "cannot write the JUnit report to \(junit): \(error.localizedDescription)", cause: error)
        }
    }
    if let first = report.environmentFailures.first, report.status == .failed {
        // The machine, not the pipeline, failed the run (a full disk): exit 3.
        throw EngineError(.environment, "run #\(report.runID) failed because of its environment: \(first)")
    }
    let code = RunExit.code(for: report.status.rawValue)
    if code != 0 { throw ExitCode(code) }
}
