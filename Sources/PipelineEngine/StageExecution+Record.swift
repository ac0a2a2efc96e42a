import Foundation
import PipelineSpec
import RunStore

extension StageExecution {
    /// Writes the stage's row. A failed write is recorded in the run's journal, which
    /// makes the run end with an environment error (exit 3) saying the record is
    /// incomplete: the stage goes on, its result is not silently lost.
    func save(_ record: inout StageRecord, outputs: [OutputRecord]?) async {
        guard context.records(stage.name) else { return }
        record.host = ProcessIdentity.hostName()
        do {
            try await context.runStore.updateStage(record, outputs: outputs)
        } catch {
            context.journal.recordFailure("cannot record stage '\(stage.name)': \(error)")
        }
    }

    /// Adds a warning to the stage's record and announces it.
    func warn(_ record: inout StageRecord, _ message: String) {
        let masked = masker.mask(message)
        var warnings = StageExecution.decodeWarnings(record.warningsJSON)
        warnings.append(masked)
        record.warningsJSON = Value.array(warnings.map { .string($0) }).canonicalJSON()
        context.events(.stageWarning(stage: stage.name, message: masked, at: Date()))
    }

    static func decodeWarnings(_ json: String?) -> [String] {
        guard let json, case .array(let items)? = Value.fromJSON(Data(json.utf8)) else { return [] }
        return items.compactMap(\.string)
    }

    /// Records the stage's end, announces it, and returns what later stages get.
    func finish(_ record: inout StageRecord, status: StageStatus, error: String? = nil, tail: [String] = [],
                category: EngineError.Category? = nil, outputs: [String: OutputRecord] = [:], metrics: Value? = nil,
                results: [String: Value] = [:]) async -> (StageOutcome, StageSummary) {
        record.status = status
        record.error = error
        record.finishedAt = Date()
        if status == .failed && record.reason == nil { record.reason = error }
        if category == .environment, let error { context.journal.recordEnvironmentFailure(error) }
        let ordered = stage.outputs.compactMap { outputs[$0.name] }
        await save(&record, outputs: ordered)
        let summary = StageSummary(name: stage.name, kind: stage.kind, status: status, startedAt: record.startedAt,
                                   finishedAt: record.finishedAt, cachedFrom: record.cachedFrom, cacheKey: record.cacheKey,
                                   attempts: record.attempts, exitCode: record.exitCode, error: error,
                                   reason: record.reason, logTail: tail, logPath: record.logPath,
                                   results: results, warnings: StageExecution.decodeWarnings(record.warningsJSON))
        context.events(.stageFinished(summary))
        return (StageOutcome(status: status, outputs: outputs, metrics: metrics, results: results), summary)
    }
}
