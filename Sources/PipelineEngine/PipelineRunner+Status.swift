import ArtifactStore
import Foundation
import GitState
import PipelineSpec
import RunStore

/// What `mlpipe status` says of one stage: would it run, and why. A prediction, made
/// from the same `StageCache.lookUp` a run makes; what happened is `StageSummary`.
public struct StagePlan: Sendable {
    public var name: String
    /// True when the stage would run or may run (`certain` tells which).
    public var willRun: Bool
    public var reason: String
    public var cachedFrom: Int64?
    public var cacheKey: String?
    /// False for a stage that runs only if an upstream stage that runs makes different
    /// outputs: the run may still find it cached.
    public var certain: Bool = true
}

/// `mlpipe status`: the plan of a run that was not started.
public struct StatusReport: Sendable {
    public var pipeline: String
    public var commit: String
    public var branch: String?
    public var dirty: Bool
    public var dirtyPaths: [String]
    public var stages: [StagePlan]
}

extension PipelineRunner {
    /// Which stages a run would execute now, and why — without running anything or
    /// writing a run record.
    ///
    /// A stage whose upstream would run cannot know its own key yet (its inputs are not
    /// made): it "may run", if that upstream's outputs change; the run may still find it
    /// cached. One that never made a result would run in any case.
    public func status(_ options: RunOptions) async throws(EngineError) -> StatusReport {
        let (session, pipeline, head) = try await openAtHead(options)
        let options = try selectingStages(options, in: pipeline)
        let all = Set(pipeline.stages.map(\.name))
        let inputs = try InputPlan.make(pipeline: pipeline, selected: all, repo: session.repo, commit: head.commit, assumeClean: false)
        let context = RunContext(
            runID: 0, pipeline: pipeline, head: head, repositoryRoot: session.repo.workdir, workspace: session.workspace,
            runStore: session.runStore, cache: session.cache, kinds: kinds, executor: executor,
            secrets: ResolvedSecrets(values: [:]), inputs: inputs, options: options, forced: options.force,
            reuse: [:], positions: [:], events: { _ in })

        var outcomes: [String: StageOutcome] = [:]
        var willRun = Set<String>()
        var plans: [StagePlan] = []
        for name in pipeline.topologicalOrder {
            guard let stage = pipeline.stage(named: name), let kind = kinds.kind(named: stage.kind) else { continue }
            let runningUpstream = stage.dependencies.filter(willRun.contains)
            if !runningUpstream.isEmpty {
                willRun.insert(name)
                let names = runningUpstream.joined(separator: ", ")
                let previous: StageRecord?
                do {
                    previous = try await session.runStore.lastResult(pipeline: pipeline.name, stage: name, excludingRun: nil)
                } catch {
                    throw EngineError(.environment, "cannot read the history of stage '\(name)': \(error)", cause: error)
                }
                if previous == nil {
                    // Never made a result: it runs whatever its upstream makes.
                    plans.append(StagePlan(name: name, willRun: true, reason: "first run of this stage (after \(names))"))
                    continue
                }
                let outputs = "the outputs of \(names) change"
                plans.append(StagePlan(name: name, willRun: true, reason: "if \(outputs) (\(runningUpstream.count == 1 ? "it runs" : "they run") first)",
                                       certain: false))
                continue
            }
            let upstream = Dictionary(uniqueKeysWithValues: stage.dependencies.compactMap { dep in outcomes[dep].map { (dep, $0) } })
            let execution = StageExecution(context: context, stage: stage, upstream: upstream)
            let key: StageKey
            do {
                key = StageKey(try execution.keyComponents(kind: kind))
            } catch {
                willRun.insert(name)
                plans.append(StagePlan(name: name, willRun: true, reason: "its expressions need values from a run: \(error.message)"))
                continue
            }
            let cacheable = execution.isCacheable(kind)
            let forced = options.force.contains(name)
            // The same question a run asks, of the same cache.
            let found: StageCache.LookUp = cacheable && !forced ? try await session.cache.lookUp(key.text) : .miss
            if case .hit(let hit) = found {
                var outputs: [String: OutputRecord] = [:]
                for record in hit.outputs { outputs[record.name] = record }
                outcomes[name] = StageOutcome(status: .cached, outputs: outputs, metrics: hit.metrics, results: hit.results)
                plans.append(StagePlan(name: name, willRun: false, reason: "cached: same key as run #\(hit.runID)",
                                       cachedFrom: hit.runID, cacheKey: key.text))
            } else {
                willRun.insert(name)
                let reason: String
                if case .incomplete(_, let why) = found {
                    reason = why
                } else {
                    reason = await execution.explain(key.components, cacheable: cacheable, forced: forced)
                }
                plans.append(StagePlan(name: name, willRun: true, reason: reason, cacheKey: key.text))
            }
        }
        return StatusReport(pipeline: pipeline.name, commit: head.commit, branch: head.branch, dirty: inputs.isDirty,
                            dirtyPaths: inputs.dirtyPaths, stages: plans)
    }
}
