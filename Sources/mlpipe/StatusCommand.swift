import ArgumentParser
import Foundation
import PipelineEngine
import PipelineSpec
import StageKinds

/// `mlpipe status`: which stages would run, and why, without running anything.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Say which stages a run would execute now, and why (nothing runs).")

    @OptionGroup var selection: PipelineSelection

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "Exit 1 when a run would execute any stage (0 when up to date), as `git diff --exit-code`.")
    var exitCode = false

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let options = RunOptions(pipeline: selection.pipeline, params: selection.overrides,
                                 workspace: workspace.resolved)
        let runner = PipelineRunner(kinds: BuiltinKinds.registry(), version: MLPipe.version)
        let report = try await runner.status(options)
        let console = Console.shared
        if json {
            let stages: [Value] = report.stages.map { plan in
                .object(["name": .string(plan.name), "willRun": .bool(plan.willRun), "certain": .bool(plan.certain),
                         "reason": .string(plan.reason),
                         "cachedFrom": JSONOutput.int(plan.cachedFrom), "cacheKey": JSONOutput.string(plan.cacheKey)])
            }
            console.out(Value.object(["pipeline": .string(report.pipeline), "commit": .string(report.commit),
                                      "branch": JSONOutput.string(report.branch), "dirty": .bool(report.dirty),
                                      "dirtyPaths": .array(report.dirtyPaths.map { .string($0) }),
                                      "stages": .array(stages)]).canonicalJSON())
            try exitIfStale(report)
            return
        }
        var head = "\(report.pipeline) at \(report.commit.prefix(7))"
        if let branch = report.branch { head += " (\(branch))" }
        if report.dirty { head += ", uncommitted changes to: " + report.dirtyPaths.prefix(5).joined(separator: ", ") }
        console.out(head)
        let width = max(14, (report.stages.map(\.name.count).max() ?? 0) + 1)
        for plan in report.stages {
            let name = plan.name + String(repeating: " ", count: max(0, width - plan.name.count))
            let verdict = !plan.willRun ? console.paint("cached   ", .green)
                : plan.certain ? console.paint("would run", .yellow) : console.paint("may run  ", .yellow)
            console.out("  \(name) \(verdict)  \(plan.reason)")
        }
        let n = report.stages.filter { $0.willRun && $0.certain }.count
        let maybe = report.stages.filter { $0.willRun && !$0.certain }.count
        var summary = n == 0 ? "up to date: a run would execute nothing" : "\(n) of \(report.stages.count) stages would run"
        if maybe > 0 { summary += ", \(maybe) more may run (if the outputs they use change)" }
        console.out(summary)
        try exitIfStale(report)
    }

    /// With --exit-code, exit 1 when any stage would or may run. A stage that may run
    /// always has an upstream stage that certainly runs, so "may" is counted too.
    private func exitIfStale(_ report: StatusReport) throws {
        if exitCode && report.stages.contains(where: \.willRun) { throw ExitCode(1) }
    }
}
