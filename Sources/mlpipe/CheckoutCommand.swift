import ArgumentParser
import Foundation
import PipelineEngine

/// `mlpipe checkout RUN [STAGE] [--to DIR]`: a run's outputs, copied out of the store.
struct CheckoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout",
        abstract: "Copy a run's outputs from the store into the working tree (as <stage>/<path>) or under a folder.")

    @Argument(help: "A run number, a run name (`run --name`), or `latest`.") var run: String
    @Argument(help: "Only this stage's outputs (default: every stage's).") var stage: String?
    @Option(name: .long, help: ArgumentHelp("Put the outputs under this folder instead of the repository root.", valueName: "DIR"))
    var to: String?
    @Flag(name: .long, help: "Replace files even when they hold changes found nowhere else.") var force = false
    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        let directory = FileManager.default.currentDirectoryPath
        let checkout = try await RunCheckout.open(RunOptions(workspace: workspace.resolved, currentDirectory: directory))
        let report = try await checkout.checkout(run, stage: stage, destination: to, currentDirectory: directory, force: force)
        let console = Console.shared
        let width = report.outputs.map(\.path.count).max() ?? 0
        for output in report.outputs {
            let size = output.kind == "tree" ? "\(output.size) bytes in a folder" : "\(output.size) bytes"
            console.out("  \(col(output.path, width))  \(output.digest.prefix(19))…  \(size)\(output.unchanged ? "  (unchanged)" : "")")
        }
        let written = report.outputs.filter { !$0.unchanged }.count
        console.out("checked out \(report.outputs.count) output\(report.outputs.count == 1 ? "" : "s") of run #\(report.runID) "
            + "(\(report.pipeline)) under \(report.root)" + (written < report.outputs.count ? " (\(written) written)" : ""))
    }
}
