import Canonical
import Foundation
import PipelineSpec
import RunStore

/// Runs side by side, one row each, with a column per param and per metric: what
/// `mlpipe runs --metrics --params` and `mlpipe exp show` print (DVC's `exp show`,
/// MLflow's run table).
///
/// A metric column is named `stage.metric` (nested keys of the metrics file joined with
/// dots: `evaluate.scores.f1`), a param column by the param's name. By default only the
/// columns whose values differ between the rows are kept (a value missing in one row
/// and present in another differs); with one row, or `all`, every column is.
public struct ExperimentTable: Sendable {
    /// What a column holds.
    public enum ColumnKind: String, Sendable {
        case param, metric
    }

    /// One param or metric column.
    public struct Column: Sendable, Hashable {
        public var kind: ColumnKind
        /// `factor`, or `evaluate.score`.
        public var name: String
    }

    /// One run and its values, by column name; a column the run has no value for is absent.
    public struct Row: Sendable {
        public var run: RunRecord
        public var values: [String: Value]
    }

    public var columns: [Column]
    public var rows: [Row]
    /// Columns left out because every row has the same value in them.
    public var hiddenColumns: Int
}

/// How to build an ``ExperimentTable``.
public struct ExperimentQuery: Sendable {
    /// Which runs (newest first, before sorting).
    public var filter: RunFilter
    public var params: Bool
    public var metrics: Bool
    /// Keep the columns whose values are the same in every row.
    public var all: Bool
    /// A column name to sort by, ascending; with a leading `-`, descending. A unique
    /// suffix after a dot will do (`score` for `evaluate.score`). Rows without a value
    /// in that column come last either way.
    public var sort: String?

    public init(filter: RunFilter, params: Bool, metrics: Bool, all: Bool = false, sort: String? = nil) {
        self.filter = filter
        self.params = params
        self.metrics = metrics
        self.all = all
        self.sort = sort
    }
}

extension RunHistory {
    /// The experiments table of the runs `query.filter` lists.
    public func experiments(_ query: ExperimentQuery) async throws(EngineError) -> ExperimentTable {
        let runs = try await list(query.filter)
        var rows: [ExperimentTable.Row] = []
        var kinds: [String: ExperimentTable.ColumnKind] = [:]
        for run in runs {
            var values: [String: Value] = [:]
            if query.params, let params = Value.fromJSON(Data(run.paramsJSON.utf8)), case .object(let fields) = params {
                for (name, value) in fields {
                    values[name] = value
                    kinds[name] = .param
                }
            }
            if query.metrics {
                for stage in try await stages(ofRun: run.id ?? 0) {
                    for (name, value) in flatten(stage.metricsJSON) {
                        values[stage.name + "." + name] = value
                        kinds[stage.name + "." + name] = .metric
                    }
                }
            }
            rows.append(ExperimentTable.Row(run: run, values: values))
        }
        // Params first, then metrics, each by name.
        let every = kinds.map { ExperimentTable.Column(kind: $0.value, name: $0.key) }
            .sorted { ($0.kind == .param ? 0 : 1, $0.name) < ($1.kind == .param ? 0 : 1, $1.name) }
        let shown = query.all || rows.count < 2 ? every : every.filter { column in
            Set(rows.map { $0.values[column.name]?.canonicalJSON() ?? "" }).count > 1
        }
        if let sort = query.sort {
            let descending = sort.hasPrefix("-")
            let name = try sortColumn(descending ? String(sort.dropFirst()) : sort, in: every.map(\.name))
            rows = sorted(rows, by: name, descending: descending)
        }
        return ExperimentTable(columns: shown, rows: rows, hiddenColumns: every.count - shown.count)
    }

    /// The column `name` names: itself, or the one column whose name ends in `.name`.
    func sortColumn(_ name: String, in names: [String]) throws(EngineError) -> String {
        if names.contains(name) { return name }
        let suffixed = names.filter { $0.hasSuffix("." + name) }
        if suffixed.count == 1 { return suffixed[0] }
        if suffixed.count > 1 {
            throw EngineError(.definition, "--sort \(name) could be any of \(suffixed.joined(separator: ", ")); give the whole name")
        }
        guard !names.isEmpty else {
            throw EngineError(.definition, "--sort \(name): the runs listed have no params or metrics to sort by")
        }
        // A near miss of a whole name, or of a metric's last part (`scor` for `train.score`).
        let close = Suggestions.closest(to: name, in: names)
            ?? names.first { column in Suggestions.closest(to: name, in: [String(column.split(separator: ".").last ?? "")]) != nil }
        throw EngineError(.definition, "--sort \(name): no param or metric of that name"
            + (close.map { "; did you mean '\($0)'?" } ?? "")
            + " (columns: \(names.joined(separator: ", ")))")
    }

    /// Rows by one column: numbers by value, anything else by its JSON text; stable,
    /// and rows without the value last.
    func sorted(_ rows: [ExperimentTable.Row], by name: String, descending: Bool) -> [ExperimentTable.Row] {
        let indexed = Array(rows.enumerated())
        return indexed.sorted { left, right in
            switch (left.element.values[name], right.element.values[name]) {
            case (nil, nil): return left.offset < right.offset
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?):
                let order: Bool?
                if let a = numeric(x), let b = numeric(y) {
                    order = a == b ? nil : (a < b) != descending
                } else {
                    let a = x.canonicalJSON(), b = y.canonicalJSON()
                    order = a == b ? nil : (a < b) != descending
                }
                return order ?? (left.offset < right.offset)
            }
        }.map(\.element)
    }
}
