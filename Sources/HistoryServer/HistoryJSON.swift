import Foundation
import PipelineEngine
import PipelineSpec
import RunStore

/// The JSON shapes of the history (camelCase keys): one definition, used by the CLI's
/// `--json` output (`runs`, `runs show`, `runs diff`, the run events) and by the
/// server's `/api/v1/…` answers, so that the two can never disagree.
///
/// Every function returns a ``Value``; its `canonicalJSON()` (sorted keys, no spaces) is
/// the text both print. A field that has no value is `null`, never left out, so that a
/// reader sees every key of a shape in every object.
public enum HistoryJSON {
    /// A value type, so one shared style is safe from any thread.
    public static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// A time as ISO 8601 with milliseconds (`2026-12-01T12:00:00.123Z`); nil is null.
    public static func date(_ date: Date?) -> Value {
        guard let date else { return .null }
        return .string(date.formatted(isoStyle))
    }

    /// A number, or null.
    public static func int(_ value: Int64?) -> Value { value.map { .int(Int($0)) } ?? .null }
    /// A number, or null.
    public static func int32(_ value: Int32?) -> Value { value.map { .int(Int($0)) } ?? .null }
    /// A string, or null.
    public static func string(_ value: String?) -> Value { value.map { .string($0) } ?? .null }

    /// A JSON column as its value; null for nil or text that is not JSON.
    public static func parse(_ json: String?) -> Value {
        // Text that is not JSON shows as null rather than failing the whole answer.
        guard let json, let value = try? JSONDecoder().decode(Value.self, from: Data(json.utf8)) else { return .null }
        return value
    }

    /// The strings of a JSON array (a stage's warnings); none for nil.
    public static func strings(_ json: String?) -> [String] {
        guard case .array(let items) = parse(json) else { return [] }
        return items.compactMap(\.string)
    }

    /// A run without its stages: what `runs --json` lists and `GET /api/v1/runs` answers.
    public static func run(_ run: RunRecord) -> [String: Value] {
        [
            "id": int(run.id),
            "pipeline": .string(run.pipeline),
            "pipelineFile": .string(run.pipelineFile),
            "status": .string(run.status.rawValue),
            "commit": .string(run.commit),
            "branch": string(run.branch),
            "dirty": .bool(run.dirty),
            "parentRun": int(run.parentRun),
            "trigger": .string(run.trigger.rawValue),
            "startedAt": date(run.startedAt),
            "finishedAt": date(run.finishedAt),
            "params": parse(run.paramsJSON),
            "host": .string(run.host),
            "version": .string(run.version),
            // When `runs prune` removed the run's folder; null while it is there.
            "prunedAt": date(run.prunedAt),
            // `run --name` and `runs note`; null when not given.
            "name": string(run.name),
            "note": string(run.note),
        ]
    }

    /// A list of runs, as `runs --json` prints it.
    public static func runs(_ runs: [RunRecord]) -> Value {
        .array(runs.map { .object(run($0)) })
    }

    /// One output of a stage.
    public static func output(_ output: OutputRecord) -> Value {
        .object([
            "name": .string(output.name),
            "digest": .string(output.digest),
            "size": .int(Int(output.size)),
            "path": .string(output.path),
            "kind": .string(output.kind),
        ])
    }

    /// One stage of a run, with its outputs.
    public static func stage(_ stage: StageRecord, outputs: [OutputRecord]) -> Value {
        .object([
            "name": .string(stage.name),
            "kind": .string(stage.kind),
            "status": .string(stage.status.rawValue),
            "cacheKey": string(stage.cacheKey),
            "cachedFrom": int(stage.cachedFrom),
            "exitCode": int32(stage.exitCode),
            "attempts": .int(stage.attempts),
            "host": string(stage.host),
            "startedAt": date(stage.startedAt),
            "finishedAt": date(stage.finishedAt),
            "reason": string(stage.reason),
            "error": string(stage.error),
            "metrics": parse(stage.metricsJSON),
            "results": parse(stage.resultsJSON),
            "warnings": parse(stage.warningsJSON ?? "[]"),
            "log": string(stage.logPath),
            "outputs": .array(outputs.map(output)),
        ])
    }

    /// A run with its stages: what `runs show --json` prints and `GET /api/v1/runs/{id}`
    /// answers.
    public static func details(_ details: RunDetails) -> Value {
        var object = run(details.run)
        object["stages"] = .array(details.stages.map { stage($0, outputs: details.outputs(of: $0.name)) })
        return .object(object)
    }

    /// Two runs compared: what `runs diff --json` prints and `GET /api/v1/compare` answers.
    public static func comparison(_ comparison: RunComparison) -> Value {
        let differences: [Value] = comparison.differences.map { d in
            .object(["category": .string(d.category), "name": .string(d.name),
                     "a": d.typedA ?? string(d.a), "b": d.typedB ?? string(d.b),
                     "delta": d.delta.map { .double($0) } ?? .null])
        }
        return .object(["a": int(comparison.a.id), "b": int(comparison.b.id), "differences": .array(differences)])
    }

    /// Seconds as whole milliseconds, or null.
    public static func milliseconds(_ seconds: Double?) -> Value {
        seconds.map { .int(Int(($0 * 1000).rounded())) } ?? .null
    }
}
