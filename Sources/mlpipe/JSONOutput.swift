import Foundation
import PipelineEngine
import PipelineSpec
import RunStore

/// The JSON shapes of `--json` output (camelCase keys, one object per line for events).
enum JSONOutput {
    /// A value type, so one shared style is safe from any thread.
    static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func date(_ date: Date?) -> Value {
        guard let date else { return .null }
        return .string(date.formatted(isoStyle))
    }

    static func int(_ value: Int64?) -> Value { value.map { .int(Int($0)) } ?? .null }
    static func int32(_ value: Int32?) -> Value { value.map { .int(Int($0)) } ?? .null }
    static func string(_ value: String?) -> Value { value.map { .string($0) } ?? .null }

    static func parse(_ json: String?) -> Value {
        guard let json, let data = json.data(using: .utf8), let value = try? JSONDecoder().decode(Value.self, from: data) else {
            return .null
        }
        return value
    }

    /// The strings of a JSON array (a stage's warnings); none for nil.
    static func strings(_ json: String?) -> [String] {
        guard case .array(let items) = parse(json) else { return [] }
        return items.compactMap(\.string)
    }

    /// A run without its stages: what `runs --json` lists.
    static func run(_ run: RunRecord) -> [String: Value] {
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

    static func output(_ output: OutputRecord) -> Value {
        .object([
            "name": .string(output.name),
            "digest": .string(output.digest),
            "size": .int(Int(output.size)),
            "path": .string(output.path),
            "kind": .string(output.kind),
        ])
    }

    static func stage(_ stage: StageRecord, outputs: [OutputRecord]) -> Value {
        .object([
            "name": .string(stage.name),
            "kind": .string(stage.kind),
            "status": .string(stage.status.rawValue),
            "cacheKey": string(stage.cacheKey),
            "cachedFrom": int(stage.cachedFrom),
            "exitCode": int32(stage.exitCode),
            "attempts": .int(stage.attempts),
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

    static func details(_ details: RunDetails) -> Value {
        var object = run(details.run)
        object["stages"] = .array(details.stages.map { stage($0, outputs: details.outputs(of: $0.name)) })
        return .object(object)
    }

    static func milliseconds(_ seconds: Double?) -> Value {
        seconds.map { .int(Int(($0 * 1000).rounded())) } ?? .null
    }
}
