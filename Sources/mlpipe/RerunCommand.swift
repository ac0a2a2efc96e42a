import ArgumentParser
import Foundation
import PipelineEngine
import StageKinds

/// `mlpipe rerun RUN`: repeats a run at its commit, reusing what succeeded.
struct RerunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Re-run a run at its commit, reusing the stages that succeeded and are not downstream of a failure.")

    @Argument(help: "A run number, a run name (`run --name`), or `latest`.")
    var run: String

    @Option(name: .long, help: "Force this stage and everything downstream of it.")
    var from: String?

    @Option(name: .long, help: "Stages to run at once (default: the number of cores).")
    var jobs: Int?

    @Option(name: .customLong("param"), help: ArgumentHelp(
        "Override a param of the run repeated; the stages that use it, and those downstream, run again.",
        valueName: "key=value"))
    var params: [String] = []

    @Option(name: .long, help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Flag(name: .long, help: "Print one JSON object per event.")
    var json = false

    @Option(name: .long, help: "A name for the new run, shown by `mlpipe runs`.")
    var name: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var remote: RemoteOptions

    func run() async throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        for param in params where ParamOverride(parsing: param) == nil {
            throw ValidationError("--param takes key=value, got '\(param)'")
        }
        let options = RunOptions(params: params.compactMap(ParamOverride.init(parsing:)),
                                 jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, trigger: .rerun,
                                 workspace: workspace.resolved,
                                 remote: remote.remote, remoteRequired: remote.remoteRequired,
                                 runName: name)
        let runner = PipelineRunner(kinds: BuiltinKinds.registry(), version: MLPipe.version)
        let renderer = RunRenderer(json: json)
        let reference = run, from = from
        let report = try await Interrupts.run { try await runner.rerun(reference, from: from, options: options, events: renderer.handle) }
        try finish(report, junit: junit)
    }
}
