import Foundation
import GitState
import PipelineSpec
import RunStore

/// Builds the `${{ … }}` contexts for a stage.
///
/// Two renderings of every stage exist: one for its cache key, where this run's folders,
/// the run id and secrets stay as their expressions (what they point to enters the key
/// elsewhere, or must never enter it), and one for execution with the real values.
struct ExpressionRoot {
    enum Mode { case key, execution }

    var pipeline: Pipeline
    var head: HeadState
    var runID: Int64
    var secrets: [String: String]

    func context(for stage: Stage, mode: Mode, outputPaths: [String: String],
                 upstream: [String: StageOutcome]) -> EvaluationContext {
        var root: [String: Value] = [:]
        root["params"] = .object(pipeline.params)
        root["git"] = .object([
            "sha": .string(head.commit),
            "short_sha": .string(head.shortCommit),
            "branch": .string(head.branch ?? ""),
        ])
        root["pipeline"] = .object(["name": .string(pipeline.name)])
        root["env"] = .object(pipeline.env.mapValues { .string($0) })
        switch mode {
        case .key:
            root["run"] = .object(["id": .string("${{ run.id }}")])
            root["secrets"] = .object(Dictionary(uniqueKeysWithValues: pipeline.secrets.keys.map { ($0, .string("${{ secrets.\($0) }}")) }))
            root["outputs"] = .object(Dictionary(uniqueKeysWithValues: stage.outputs.map { ($0.name, .string("${{ outputs.\($0.name) }}")) }))
        case .execution:
            root["run"] = .object(["id": .int(Int(runID))])
            root["secrets"] = .object(secrets.mapValues { .string($0) })
            root["outputs"] = .object(outputPaths.mapValues { .string($0) })
        }
        var stages: [String: Value] = [:]
        for (name, outcome) in upstream {
            var outputs: [String: Value] = [:]
            for (outputName, record) in outcome.outputs {
                outputs[outputName] = mode == .key ? .string("${{ stages.\(name).outputs.\(outputName) }}") : .string(record.path)
            }
            // Results are values, not paths: the key holds them as they are, so a changed
            // digest or version upstream changes this stage's key.
            stages[name] = .object(["outputs": .object(outputs), "metrics": outcome.metrics ?? .object([:]),
                                    "results": .object(outcome.results)])
        }
        // A matrix stage named without an instance: every instance's value, in a list.
        for (group, instances) in pipeline.matrixGroups where !instances.isEmpty {
            let members = instances.compactMap { stages[$0]?.object }
            guard members.count == instances.count else { continue }  // not all upstream of this stage
            stages[group] = .object(["outputs": Self.lists(members.map { $0["outputs"] }),
                                     "metrics": Self.lists(members.map { $0["metrics"] }),
                                     "results": Self.lists(members.map { $0["results"] })])
        }
        root["stages"] = .object(stages)
        return EvaluationContext(root: root)
    }

    /// `[{a: 1}, {a: 2, b: 3}]` -> `{a: [1, 2], b: [null, 3]}`: the instances' mappings
    /// as one mapping of lists, in instance order, null where an instance lacks the key.
    static func lists(_ objects: [Value?]) -> Value {
        let members = objects.map { $0?.object ?? [:] }
        var keys = Set<String>()
        for member in members { keys.formUnion(member.keys) }
        var result: [String: Value] = [:]
        for key in keys { result[key] = .array(members.map { $0[key] ?? .null }) }
        return .object(result)
    }
}

/// What a finished stage hands to the stages after it (paths, metrics, results): the
/// values `stages.NAME.*` expressions read. Its report to the user is `StageSummary`.
struct StageOutcome: Sendable {
    var status: StageStatus
    /// By output name; `path` is where the file is in this run's folder.
    var outputs: [String: OutputRecord]
    var metrics: Value?
    /// The typed results its kind returned.
    var results: [String: Value] = [:]

    var isSuccess: Bool { status == .succeeded || status == .cached }
}

extension Value {
    /// Decodes JSON text into a Value (metrics files, stored params).
    static func fromJSON(_ data: Data) -> Value? {
        try? JSONDecoder().decode(Value.self, from: data)
    }
}
