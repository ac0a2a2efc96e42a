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
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var outcomes: [String: StageOutcome] = [:]
        var summaries: [StageSummary] = []
        let jobs = max(1, context.options.jobs)

        // Stages left out by --only are recorded as skipped, with the reason.
        for name in order where !selected.contains(name) {
            summaries.append(await record(name, kind: stagesByName[name]!.kind, status: .skipped,
                                          reason: "not selected (--only)", error: nil))
        }

        // Kahn's algorithm, incrementally: each selected stage counts the selected stages it
        // still waits for, and becomes ready when that reaches zero. Every event costs
        // O(its edges), so a DAG of thousands of stages schedules in linear time.
        var dependencies: [String: [String]] = [:]
        var dependents: [String: [String]] = [:]
        var waitingOn: [String: Int] = [:]
        for name in order where selected.contains(name) {
            let needs = Array(Set(stagesByName[name]!.dependencies.filter { selected.contains($0) && $0 != name }))
            dependencies[name] = needs
            waitingOn[name] = needs.count
            for dependency in needs { dependents[dependency, default: []].append(name) }
        }
        // Ready stages in file order: among stages ready at once, the earlier one starts first.
        var ready = MinHeap(order.indices.filter { selected.contains(order[$0]) && waitingOn[order[$0]] == 0 })

        await withTaskGroup(of: (String, StageOutcome, StageSummary).self) { group in
            var running = 0
            /// Records an outcome and makes the stages that waited only for it ready.
            func settle(_ name: String, _ outcome: StageOutcome) {
                outcomes[name] = outcome
                for dependent in dependents[name] ?? [] {
                    waitingOn[dependent]! -= 1
                    if waitingOn[dependent] == 0 { ready.push(position[dependent]!) }
                }
            }
            while true {
                // Start, skip or cancel ready stages while there is a free job.
                while running < jobs || Task.isCancelled, let next = ready.pop() {
                    let name = order[next]
                    let stage = stagesByName[name]!
                    let failedDeps = dependencies[name]!.filter { !(outcomes[$0]?.isSuccess ?? false) }
                        .sorted { position[$0]! < position[$1]! }
                    if Task.isCancelled {
                        summaries.append(await record(name, kind: stage.kind, status: .cancelled, reason: "run cancelled before it started", error: nil))
                        settle(name, StageOutcome(status: .cancelled, outputs: [:], metrics: nil))
                    } else if !failedDeps.isEmpty {
                        let cancelledUpstream = failedDeps.allSatisfy { outcomes[$0]?.status == .cancelled }
                        let status: StageStatus = cancelledUpstream ? .cancelled : .skipped
                        summaries.append(await record(name, kind: stage.kind, status: status,
                                                reason: "upstream \(failedDeps.joined(separator: ", ")) did not succeed", error: nil))
                        settle(name, StageOutcome(status: status, outputs: [:], metrics: nil))
                    } else {
                        running += 1
                        let upstream = Dictionary(uniqueKeysWithValues: stage.dependencies.compactMap { dep in outcomes[dep].map { (dep, $0) } })
                        let execution = StageExecution(context: context, stage: stage, upstream: upstream)
                        group.addTask {
                            let (outcome, summary) = await execution.run()
                            return (name, outcome, summary)
                        }
                    }
                }
                guard running > 0, let (name, outcome, summary) = await group.next() else { break }
                running -= 1
                summaries.append(summary)
                settle(name, outcome)
            }
        }
        return summaries
    }

    /// Records a stage that will not run, and announces it.
    func record(_ name: String, kind: String, status: StageStatus, reason: String, error: String?) async -> StageSummary {
        let now = Date()
        let stageRecord = StageRecord(runID: context.runID, name: name, kind: kind, position: context.positions[name] ?? 0,
                                      status: status, cacheKey: nil, cachedFrom: nil, attempts: 0, exitCode: nil,
                                      error: error, reason: reason, keyComponentsJSON: nil, metricsJSON: nil,
                                      startedAt: nil, finishedAt: now, logPath: nil)
        do {
            if context.records(name) { try await context.runStore.updateStage(stageRecord, outputs: nil) }
        } catch {
            // The run goes on; it ends saying its record is incomplete.
            context.journal.recordFailure("cannot record stage '\(name)': \(error)")
        }
        let summary = StageSummary(name: name, kind: kind, status: status, startedAt: nil, finishedAt: now,
                                   cachedFrom: nil, cacheKey: nil, attempts: 0, exitCode: nil, error: error,
                                   reason: reason, logTail: [], logPath: nil)
        context.events(.stageFinished(summary))
        return summary
    }
}
