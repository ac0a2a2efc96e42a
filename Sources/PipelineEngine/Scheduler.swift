import Foundation
import PipelineSpec
import RunStore

/// Runs a run's stages as a DAG: each as soon as everything it depends on has
/// succeeded, at most `jobs` at once, in one task group.
///
/// A failed stage marks everything downstream `skipped` and lets unrelated branches
/// finish. Cancellation (Ctrl-C) cancels the group: running stages end their process
/// groups and are recorded `cancelled`, and stages not yet started are recorded
/// `cancelled` too, so the run record stays whole.
struct Scheduler {
    var context: RunContext
    var selected: Set<String>

    func run() async -> [StageSummary] {
        let pipeline = context.pipeline
        let order = pipeline.topologicalOrder
        let stagesByName = Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, $0) })
        var outcomes: [String: StageOutcome] = [:]
        var summaries: [StageSummary] = []
        var started = Set<String>()
        let jobs = max(1, context.options.jobs)

        // Stages left out by --only are recorded as skipped, with the reason.
        for name in order where !selected.contains(name) {
            let summary = record(name, kind: stagesByName[name]!.kind, status: .skipped,
                                 reason: "not selected (--only)", error: nil)
            summaries.append(summary)
            started.insert(name)
        }

        await withTaskGroup(of: (String, StageOutcome, StageSummary).self) { group in
            var running = 0
            while true {
                // Start, skip or cancel every stage whose dependencies are all done.
                var changed = true
                while changed {
                    changed = false
                    for name in order where !started.contains(name) {
                        let stage = stagesByName[name]!
                        guard stage.dependencies.allSatisfy({ outcomes[$0] != nil || !selected.contains($0) }) else { continue }
                        let failedDeps = stage.dependencies.filter { outcomes[$0].map { !$0.isSuccess } ?? false }
                        if Task.isCancelled {
                            started.insert(name)
                            summaries.append(record(name, kind: stage.kind, status: .cancelled, reason: "run cancelled before it started", error: nil))
                            outcomes[name] = StageOutcome(status: .cancelled, outputs: [:], metrics: nil)
                            changed = true
                        } else if !failedDeps.isEmpty {
                            started.insert(name)
                            let cancelledUpstream = failedDeps.allSatisfy { outcomes[$0]?.status == .cancelled }
                            let status: StageStatus = cancelledUpstream ? .cancelled : .skipped
                            summaries.append(record(name, kind: stage.kind, status: status,
                                                    reason: "upstream \(failedDeps.joined(separator: ", ")) did not succeed", error: nil))
                            outcomes[name] = StageOutcome(status: status, outputs: [:], metrics: nil)
                            changed = true
                        } else if running < jobs {
                            started.insert(name)
                            running += 1
                            let upstream = Dictionary(uniqueKeysWithValues: stage.dependencies.compactMap { dep in outcomes[dep].map { (dep, $0) } })
                            let execution = StageExecution(context: context, stage: stage, upstream: upstream)
                            group.addTask {
                                let (outcome, summary) = await execution.run()
                                return (name, outcome, summary)
                            }
                        }
                    }
                }
                guard running > 0, let (name, outcome, summary) = await group.next() else { break }
                running -= 1
                outcomes[name] = outcome
                summaries.append(summary)
            }
        }
        return summaries
    }

    /// Records a stage that will not run, and announces it.
    func record(_ name: String, kind: String, status: StageStatus, reason: String, error: String?) -> StageSummary {
        let now = Date()
        let stageRecord = StageRecord(runID: context.runID, name: name, kind: kind, position: context.positions[name] ?? 0,
                                      status: status, cacheKey: nil, cachedFrom: nil, attempts: 0, exitCode: nil,
                                      error: error, reason: reason, keyComponentsJSON: nil, metricsJSON: nil,
                                      startedAt: nil, finishedAt: now, logPath: nil)
        // A failed write of a skipped stage's row loses only that row's reason; the run goes on.
        try? context.runStore.updateStage(stageRecord, outputs: nil)
        let summary = StageSummary(name: name, kind: kind, status: status, startedAt: nil, finishedAt: now,
                                   cachedFrom: nil, cacheKey: nil, attempts: 0, exitCode: nil, error: error,
                                   reason: reason, logTail: [], logPath: nil)
        context.events(.stageFinished(summary))
        return summary
    }
}
