import Canonical
import Foundation
import PipelineSpec
import RunStore

/// One field compared across several runs: `runs diff A B C…`.
public struct RunFieldValues: Sendable {
    /// As in ``RunDifference``: `commit`, `param`, `input`, `output`, `metric`, `stage`, …
    public var category: String
    public var name: String
    /// One value per run, in the order the runs were given; nil where a run has none.
    public var values: [String?]
    /// The same values as their JSON types, where they have one (a param's 5, a metric's 0.93).
    public var typed: [Value?]
}

/// Several runs compared field by field: the fields whose values are not all the same.
public struct RunTableComparison: Sendable {
    public var runs: [RunRecord]
    public var differences: [RunFieldValues]
}

extension RunHistory {
    /// What differs among runs (two or more): the same fields as ``compare(_:_:)``, as
    /// a column per run, keeping each field where any two runs disagree.
    public func compare(_ references: [String]) async throws(EngineError) -> RunTableComparison {
        var all: [RunDetails] = []
        for reference in references { all.append(try await details(reference)) }
        let fieldSets = all.map(fields)
        // Fields in the order they first appear, run by run.
        var order: [String] = []
        var seen = Set<String>()
        for fields in fieldSets {
            for field in fields where seen.insert(field.key).inserted { order.append(field.key) }
        }
        let lookups = fieldSets.map { fields in
            Dictionary(fields.map { field in (field.key, field) }, uniquingKeysWith: { first, _ in first })
        }
        var differences: [RunFieldValues] = []
        for key in order {
            let present = lookups.map { $0[key] }
            guard let sample = present.compactMap({ $0 }).first else { continue }
            let values = present.map { $0?.text }
            guard Set(values.map { $0 ?? "\u{0}none" }).count > 1 else { continue }
            differences.append(RunFieldValues(category: sample.category, name: sample.name, values: values,
                                              typed: present.map { $0?.typed }))
        }
        return RunTableComparison(runs: all.map(\.run), differences: differences)
    }

    /// A run's comparable fields, in the order ``compare(_:_:)`` reports them.
    func fields(_ details: RunDetails) -> [(key: String, category: String, name: String, text: String?, typed: Value?)] {
        var out: [(key: String, category: String, name: String, text: String?, typed: Value?)] = []
        func add(_ category: String, _ name: String, _ text: String?, _ typed: Value? = nil) {
            out.append((category + "\u{0}" + name, category, name, text, typed))
        }
        let run = details.run
        add("commit", "commit", run.commit)
        add("branch", "branch", run.branch)
        add("dirty", "dirty", String(run.dirty), .bool(run.dirty))
        add("pipeline", "pipeline file", run.pipelineDigest)
        let params = objectFields(run.paramsJSON)
        for key in params.keys.sorted() {
            add("param", key, params[key], params[key].flatMap { Value.fromJSON(Data($0.utf8)) })
        }
        for stage in details.stages {
            add("stage", stage.name, stage.status.rawValue)
            let inputs = stage.keyComponentsJSON.flatMap(KeyComponents.decode)?.inputs ?? [:]
            for path in inputs.keys.sorted() {
                add("input", "\(stage.name):\(path.isEmpty ? "(whole tree)" : path)", inputs[path])
            }
            for output in details.outputs(of: stage.name).sorted(by: { $0.name < $1.name }) {
                add("output", "\(stage.name).\(output.name)", output.digest)
            }
            let metrics = flatten(stage.metricsJSON)
            for metric in metrics.keys.sorted() {
                add("metric", "\(stage.name).\(metric)", metrics[metric]?.interpolated, metrics[metric])
            }
        }
        return out
    }
}
