import ArgumentParser
import Foundation
import PipelineEngine
import StageKinds

/// `mlpipe rerun RUN`: repeats a run at its commit, reusing what succeeded.
struct RerunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Re-run a run at its commit, reusing the stages that succeeded and are not downstream of a failure.")

    @Argument(help: "A run number, or `latest`.")
    var run: String

    @Option(name: .long, help: "Force this stage and everything downstream of it.")
    var from: String?

    @Option(name: .long, help: "Stages to run at once (default: the number of cores).")
    var jobs: Int?

    @Option(name: .long, help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Flag(name: .long, help: "Print one JSON object per event.")
    var json = false

    @Option(name: .long, help: "A name for the new run, shown by `mlpipe runs`.")
    var name: String?

    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        let options = RunOptions(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, trigger: .rerun, workspace: workspace.resolved,
                                 runName: name)
        let runner = PipelineRunner(kinds: BuiltinKinds.registry(), version: MLPipe.version)
        let renderer = RunRenderer(json: json)
        let reference = run, from = from
        let report = try await Interrupts.run { try await runner.rerun(reference, from: from, options: options, events: renderer.handle) }
        try finish(report, junit: junit)
    }
}
