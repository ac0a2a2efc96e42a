import ArgumentParser
import Canonical
import Foundation
import PipelineEngine
import PipelineSpec
import RunStore

/// The options that turn `mlpipe runs` into the experiments table.
struct ExperimentOptions: ParsableArguments {
    @Flag(name: .long, help: "Show the experiments table: a row per run, a column per metric (stage.metric).")
    var metrics = false
    @Flag(name: .long, help: "Show the experiments table with a column per param.")
    var params = false
    @Flag(name: .long, help: "In the table, keep the columns whose values are the same in every run.")
    var all = false
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Sort the table by a param or metric; -NAME sorts descending.", valueName: "NAME"))
    var sort: String?
    @Flag(name: .long, help: "Print the table as CSV.")
    var csv = false

    var requested: Bool { metrics || params }

    func validate() throws {
        if !requested && (all || sort != nil || csv) {
            throw ValidationError("--all, --sort and --csv shape the experiments table: add --metrics and/or --params")
        }
    }
}

/// `mlpipe exp show`: the experiments table, with params and metrics, as DVC users know it.
struct ExpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exp", abstract: "Experiments: runs side by side by their params and metrics.",
        subcommands: [Show.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "The same table as `mlpipe runs --params --metrics`.")

        @Option(name: .long, help: "Only runs of this pipeline.") var pipeline: String?
        @Option(name: .long, help: "Only runs with this status.") var status: String?
        @Option(name: .long, help: "At most this many runs.") var limit: Int = 20
        @Option(name: .long, help: "Only runs whose name contains this text (any case).") var name: String?
        @Flag(name: .long, help: "Keep the columns whose values are the same in every run.") var all = false
        @Option(name: .long, parsing: .unconditional,
                help: ArgumentHelp("Sort by a param or metric; -NAME sorts descending.", valueName: "NAME"))
        var sort: String?
        @Flag(name: .long, help: "Print a JSON array.") var json = false
        @Flag(name: .long, help: "Print CSV.") var csv = false
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var store: StoreOptions

        func validate() throws {
            if let status, RunStatus(rawValue: status) == nil {
                throw ValidationError("unknown status '\(status)'; use one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let filter = RunFilter(pipeline: pipeline, status: status.flatMap(RunStatus.init(rawValue:)), limit: limit, name: name)
            try await ExperimentsView.print(ExperimentQuery(filter: filter, params: true, metrics: true, all: all, sort: sort),
                                            workspace: workspace, json: json, csv: csv)
        }
    }
}

extension ExpCommand.Show: JSONReporting {}

/// Prints an ``ExperimentTable`` as text, JSON or CSV.
enum ExperimentsView {
    static func print(_ query: ExperimentQuery, workspace: WorkspaceOptions, json: Bool, csv: Bool) async throws {
        let history = try await RunHistory.open(RunOptions(workspace: workspace.resolved))
        let table = try await history.experiments(query)
        let console = Console.shared
        if json {
            console.out(Value.array(table.rows.map { jsonRow($0, table.columns) }).canonicalJSON())
            return
        }
        if table.rows.isEmpty && !csv {
            console.out(try await history.emptyListMessage(query.filter))
            return
        }
        let named = table.rows.contains { $0.run.name != nil }
        var header = ["RUN"] + (named ? ["NAME"] : []) + ["STATUS"]
        header += table.columns.map(\.name)
        let rows: [[String]] = table.rows.map { row in
            [csv ? String(row.run.id ?? 0) : "#\(row.run.id ?? 0)"] + (named ? [row.run.name ?? (csv ? "" : "-")] : [])
                + [row.run.status.rawValue]
                + table.columns.map { row.values[$0.name].map(text) ?? (csv ? "" : "-") }
        }
        if csv {
            let csvHeader = ["run"] + (named ? ["name"] : []) + ["status"] + table.columns.map(\.name)
            console.out(([csvHeader] + rows)
                .map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n"))
            return
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        for line in [header] + rows {
            console.out(line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : col(cell, widths[index])
            }.joined(separator: "  "))
        }
        if table.hiddenColumns > 0 {
            console.out("(\(table.hiddenColumns) column\(table.hiddenColumns == 1 ? "" : "s") with the same value in every run not shown; --all shows them)")
        }
    }

    /// A value as a cell: numbers and strings as they are, anything else as JSON.
    static func text(_ value: Value) -> String {
        value.interpolated
    }

    /// One row of `--json`: the run, and the shown params and metrics with their JSON types.
    static func jsonRow(_ row: ExperimentTable.Row, _ columns: [ExperimentTable.Column]) -> Value {
        var params: [String: Value] = [:], metrics: [String: Value] = [:]
        for column in columns {
            let value = row.values[column.name] ?? .null
            switch column.kind {
            case .param: params[column.name] = value
            case .metric: metrics[column.name] = value
            }
        }
        return .object(["id": JSONOutput.int(row.run.id), "name": JSONOutput.string(row.run.name),
                        "pipeline": .string(row.run.pipeline), "status": .string(row.run.status.rawValue),
                        "params": .object(params), "metrics": .object(metrics)])
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// `runs diff A B C…`: a column per run.
enum DiffTableView {
    static func print(_ comparison: RunTableComparison, json: Bool) {
        let console = Console.shared
        if json {
            let rows: [Value] = comparison.differences.map { field in
                .object(["category": .string(field.category), "name": .string(field.name),
                         "values": .array(zip(field.values, field.typed).map { text, typed in typed ?? JSONOutput.string(text) })])
            }
            console.out(Value.object(["runs": .array(comparison.runs.map { JSONOutput.int($0.id) }),
                                      "differences": .array(rows)]).canonicalJSON())
            return
        }
        if comparison.differences.isEmpty {
            console.out("runs \(comparison.runs.map { "#\($0.id ?? 0)" }.joined(separator: ", ")): no differences")
            return
        }
        let header = ["", ""] + comparison.runs.map { "#\($0.id ?? 0)" }
        let rows = comparison.differences.map { field in
            [field.category, field.name] + field.values.map { RunsCommand.Diff.short($0) }
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        for line in [header] + rows {
            console.out(line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : col(cell, widths[index])
            }.joined(separator: "  ").trimmingTrailingSpaces())
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
