import Canonical
import ArgumentParser
import Foundation
import HistoryServer
import PipelineEngine
import PipelineSpec
import RunStore

/// `mlpipe runs [list|show|diff]`: the recorded history.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List, show, compare and prune recorded runs.",
        subcommands: [List.self, Show.self, Diff.self, Prune.self, Note.self],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, newest first.")

        @Option(name: .long, help: "Only runs of this pipeline.") var pipeline: String?
        @Option(name: .long, help: "Only runs with this status (running, succeeded, failed, cancelled, interrupted).") var status: String?
        @Option(name: .long, help: "At most this many runs.") var limit: Int = 20
        @Option(name: .long, help: "Only runs whose name contains this text (any case).") var name: String?
        @Flag(name: .long, help: "Print a JSON array.") var json = false
        @OptionGroup(title: "Experiments table") var table: ExperimentOptions
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var store: StoreOptions

        func validate() throws {
            if let status, RunStatus(rawValue: status) == nil {
                throw ValidationError("unknown status '\(status)'; use one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let history = try await RunHistory.open(RunOptions(workspace: workspace.resolved))
            let filter = RunFilter(pipeline: pipeline, status: status.flatMap(RunStatus.init(rawValue:)), limit: limit, name: name)
            if table.requested {
                let query = ExperimentQuery(filter: filter, params: table.params, metrics: table.metrics, all: table.all, sort: table.sort)
                return try await ExperimentsView.print(query, workspace: workspace, json: json, csv: table.csv)
            }
            let runs = try await history.list(filter)
            let console = Console.shared
            if json {
                console.out(HistoryJSON.runs(runs).canonicalJSON())
                return
            }
            if runs.isEmpty {
                console.out(try await history.emptyListMessage(filter))
                return
            }
            let labelled = RunLabels.any(runs)
            console.out("RUN     PIPELINE        STATUS       COMMIT   BRANCH          STARTED              DURATION  TRIGGER"
                + (labelled ? "      " + RunLabels.header : ""))
            for run in runs {
                let started = LocalTime.timestamp(run.startedAt)
                let took = run.finishedAt.map { duration($0.timeIntervalSince(run.startedAt)) } ?? "-"
                var commit = String(run.commit.prefix(7))
                if run.dirty { commit += "*" }
                console.out([col("#\(run.id ?? 0)", 7), col(run.pipeline, 15), col(statusText(run.status), 12, painted: run.status.rawValue),
                             col(commit, 8), col(run.branch ?? "-", 15), col(started, 20), col(took, 9),
                             col(run.trigger.rawValue + (run.parentRun.map { " of #\($0)" } ?? ""), labelled ? 12 : 0)]
                    .joined(separator: " ") + (labelled ? " " + RunLabels.columns(run) : ""))
            }
        }

        func statusText(_ status: RunStatus) -> String {
            let console = Console.shared
            switch status {
            case .succeeded: return console.paint(status.rawValue, .green)
            case .failed: return console.paint(status.rawValue, .red)
            case .running: return console.paint(status.rawValue, .cyan)
            default: return console.paint(status.rawValue, .yellow)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one run: its stages, why each ran, outputs and metrics.")

        @Argument(help: "A run number, a run name (`run --name`), or `latest`.") var run: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let history = try await RunHistory.open(RunOptions(workspace: workspace.resolved))
            let details = try await history.details(run)
            let console = Console.shared
            if json {
                console.out(HistoryJSON.details(details).canonicalJSON())
                return
            }
            let r = details.run
            console.out("run #\(r.id ?? 0)  \(r.pipeline)  \(r.status.rawValue)")
            console.out("  commit    \(r.commit)\(r.dirty ? " (dirty)" : "")\(r.branch.map { "  branch \($0)" } ?? "")")
            console.out("  file      \(r.pipelineFile)  \(r.pipelineDigest)")
            console.out("  started   \(r.startedAt.formatted(JSONOutput.isoStyle))" + (r.finishedAt.map { "  took \(duration($0.timeIntervalSince(r.startedAt)))" } ?? ""))
            console.out("  trigger   \(r.trigger.rawValue)\(r.parentRun.map { ", re-run of #\($0)" } ?? "")  host \(r.host)  mlpipe \(r.version)")
            console.out("  params    \(r.paramsJSON)")
            for line in RunLabels.showLines(r) { console.out(line) }
            if let pruned = r.prunedAt {
                console.out("  folder    pruned \(pruned.formatted(JSONOutput.isoStyle)): its outputs and logs are gone, the record stays")
            }
            console.out("stages:")
            // Where each stage ran, once the run's stages ran on more than its own host (the
            // tasks of a workflow, `run --run-key`); a run on one machine says it above.
            let spansHosts = details.stages.contains { $0.host.map { $0 != r.host } ?? false }
            for stage in details.stages {
                var line = "  \(col(stage.name, 14)) \(col(stage.status.rawValue, 10))"
                if spansHosts, let host = stage.host { line += " on \(host)" }
                if let from = stage.cachedFrom { line += " from #\(from)" }
                if let start = stage.startedAt, let end = stage.finishedAt, stage.status != .cached {
                    line += " \(duration(end.timeIntervalSince(start)))"
                }
                if stage.attempts > 1 { line += " attempts \(stage.attempts)" }
                if let code = stage.exitCode, code != 0 { line += " exit \(code)" }
                console.out(line)
                if let reason = stage.reason { console.out("      why: \(reason)") }
                if let error = stage.error, stage.status == .failed { console.out("      error: \(error)") }
                for output in details.outputs(of: stage.name) {
                    console.out("      \(output.name): \(output.digest.prefix(19))… \(output.size) bytes  \(output.path)")
                }
                if let metrics = stage.metricsJSON { console.out("      metrics: \(metrics)") }
                if let results = stage.resultsJSON { console.out("      results: \(results)") }
                for warning in JSONOutput.strings(stage.warningsJSON) { console.out("      warning: \(warning)") }
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "Compare runs: commit, params, inputs, outputs and metrics (a column per run for more than two).")

        @Argument(help: "Two runs or more.") var runs: [String] = []
        @Flag(name: .long, help: "Print JSON.") var json = false
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var store: StoreOptions

        func validate() throws {
            guard runs.count >= 2 else { throw ValidationError("runs diff compares two runs or more; give their numbers, e.g. `runs diff 4 7`") }
        }

        func run() async throws {
            let history = try await RunHistory.open(RunOptions(workspace: workspace.resolved))
            if runs.count > 2 { return DiffTableView.print(try await history.compare(runs), json: json) }
            let comparison = try await history.compare(runs[0], runs[1])
            let console = Console.shared
            if json {
                console.out(HistoryJSON.comparison(comparison).canonicalJSON())
                return
            }
            console.out("run #\(comparison.a.id ?? 0) -> run #\(comparison.b.id ?? 0)")
            if comparison.differences.isEmpty { console.out("  no differences"); return }
            for d in comparison.differences {
                var line = "  \(col(d.category, 8)) \(d.name): \(Self.short(d.a)) -> \(Self.short(d.b))"
                if let delta = d.delta { line += String(format: " (%+g)", delta) }
                console.out(line)
            }
        }

        static func short(_ value: String?) -> String {
            guard let value else { return "(none)" }
            if value.hasPrefix("sha256:") { return String(value.prefix(19)) + "…" }
            if value.count == 40, value.allSatisfy(\.isHexDigit) { return String(value.prefix(7)) }
            return value
        }
    }

}

/// Pads to a column, measuring `painted` (the text without colour codes) when given.
func col(_ text: String, _ width: Int, painted: String? = nil) -> String {
    let visible = (painted ?? text).count
    return visible >= width ? text : text + String(repeating: " ", count: width - visible)
}
