import ArgumentParser
import Foundation
import PipelineEngine
import RunStore

extension RunsCommand {
    /// `mlpipe runs prune`: removes old run folders, keeping their records.
    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Remove the folders (outputs and logs) of old runs; their records stay in the history.",
            discussion: """
                A run is pruned when it matches every option given; a running run never is. \
                Large outputs are shared with the object store: `mlpipe cache gc` frees them \
                once no cache entry keeps them.
                """)

        @Option(name: .long, help: "Keep the folders of the N newest finished runs (of --status, when given).")
        var keep: Int?
        @Option(name: .customLong("older-than"), help: ArgumentHelp("Only runs that ended longer ago than this.", valueName: "30d|12h|90m"))
        var olderThan: String?
        @Option(name: .long, help: "Only runs with this status (succeeded, failed, cancelled, interrupted).")
        var status: String?
        @Flag(name: .customLong("dry-run"), help: "Say what would be removed, and remove nothing.")
        var dryRun = false
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var store: StoreOptions

        func validate() throws {
            guard keep != nil || olderThan != nil || status != nil else {
                throw ValidationError("say which runs to prune: --keep N, --older-than D or --status S (or several)")
            }
            if let keep, keep < 0 { throw ValidationError("--keep must be 0 or more") }
            if let olderThan, RunPruner.age(parsing: olderThan) == nil {
                throw ValidationError("--older-than takes an age such as 30d, 12h or 90m, got '\(olderThan)'")
            }
            if let status {
                let prunable = RunStatus.allCases.filter { $0 != .running }.map(\.rawValue)
                guard prunable.contains(status) else {
                    throw ValidationError(status == "running"
                        ? "a running run is never pruned; use one of \(prunable.joined(separator: ", "))"
                        : "unknown status '\(status)'; use one of \(prunable.joined(separator: ", "))")
                }
            }
        }

        func run() async throws {
            let selection = PruneSelection(
                keep: keep,
                endedBefore: olderThan.flatMap(RunPruner.age(parsing:)).map { Date().addingTimeInterval(-$0) },
                status: status.flatMap(RunStatus.init(rawValue:)))
            let report = try await RunPruner.open(RunOptions(workspace: workspace.resolved)).prune(selection, dryRun: dryRun)
            let console = Console.shared
            if report.runs.isEmpty {
                console.out("no run folders to prune")
                return
            }
            let runs = report.runs.prefix(10).map { "#\($0)" }.joined(separator: ", ") + (report.runs.count > 10 ? ", …" : "")
            let count = report.runs.count == 1 ? "1 run" : "\(report.runs.count) runs"
            var line = report.dryRun
                ? "would prune \(count) (\(runs)) and free \(bytes(report.space.freedBytes))"
                : "pruned \(count) (\(runs)): freed \(bytes(report.space.freedBytes))"
            if report.space.heldBytes > 0 {
                line += "; \(bytes(report.space.heldBytes)) of their outputs \(report.dryRun ? "would stay" : "stay") in the object store until `mlpipe cache gc` removes what no cache entry keeps"
            }
            console.out(line)
        }
    }
}
