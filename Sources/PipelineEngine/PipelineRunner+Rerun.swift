import Foundation
import GitState
import PipelineSpec
import RunStore

extension PipelineRunner {
    /// `mlpipe rerun RUN [--from STAGE]`: a new run linked to RUN, at RUN's commit, with
    /// RUN's pipeline file and params.
    ///
    /// Stages that succeeded (or were cached) in RUN and are not downstream of a stage
    /// that did not succeed are reused as they were; the rest run. `--from STAGE` forces
    /// that stage and everything downstream of it. When HEAD has moved since RUN, the run
    /// happens in a temporary git worktree of RUN's commit, removed afterwards.
    public func rerun(_ reference: String, from: String?, options: RunOptions,
                      events: @escaping @Sendable (RunEvent) -> Void) async throws(EngineError) -> RunReport {
        let session = try await Session.open(options)
        let history = RunHistory(store: session.runStore)
        let original = try await history.resolve(reference)
        guard let originalID = original.id else { throw EngineError(.internal, "run without id") }

        var pipeline: Pipeline
        do {
            pipeline = try PipelineLoader.parse(source: original.pipelineSource, file: original.pipelineFile, kinds: kinds.schemas,
                                                secretProviders: secretProviders(session.repo.workdir).names)
        } catch {
            throw EngineError.spec(error)
        }
        if let params = Value.fromJSON(Data(original.paramsJSON.utf8)), case .object(let values) = params {
            pipeline.params = values
        }
        let originalParams = pipeline.params
        pipeline = try applyParams(pipeline, options.params)
        // `--param`: the stages that reference a changed value are not reused.
        let changedParams = Set(pipeline.params.keys.filter { pipeline.params[$0] != originalParams[$0] })
        let changed = Set(pipeline.stages.filter { stage in
            stage.references.contains { $0.count >= 2 && $0[0] == "params" && changedParams.contains($0[1]) }
        }.map(\.name))
        if let from, pipeline.stages(named: from).isEmpty {
            throw EngineError(.definition, "no stage '\(from)' in run #\(originalID)'s pipeline"
                + (Suggestions.closest(to: from, in: pipeline.stageNames).map { "; did you mean '\($0)'?" } ?? ""))
        }

        let stages: [StageRecord]
        let outputs: [OutputRecord]
        do {
            stages = try await session.runStore.stages(runID: originalID)
            outputs = try await session.runStore.outputs(runID: originalID)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        let succeeded = Set(stages.filter { $0.status == .succeeded || $0.status == .cached }.map(\.name))
        let broken = Set(pipeline.stages.map(\.name)).subtracting(succeeded)
        var forced = Set<String>()
        if let from {
            forced = Set(pipeline.stages(named: from))
            forced.formUnion(pipeline.downstream(of: forced))
        }
        let rerunAll = broken.union(pipeline.downstream(of: broken)).union(forced)
            .union(changed).union(pipeline.downstream(of: changed))
        var reuse: [String: ReusedResult] = [:]
        for record in stages where succeeded.contains(record.name) && !rerunAll.contains(record.name) {
            reuse[record.name] = ReusedResult(fromRun: record.cachedFrom ?? originalID,
                                              outputs: outputs.filter { $0.stage == record.name },
                                              metricsJSON: record.metricsJSON, resultsJSON: record.resultsJSON)
        }

        // At RUN's commit: here if HEAD is there, else in a temporary worktree.
        let current = try gitHead(session.repo)
        var root = session.repo.workdir
        var worktree: String?
        var head = current
        if current.commit != original.commit {
            let path = "\(session.workspace.worktreesPath)/rerun-\(getpid())-\(Int(Date().timeIntervalSince1970))"
            do {
                try FileManager.default.createDirectory(atPath: session.workspace.worktreesPath, withIntermediateDirectories: true)
                try session.repo.addWorktree(at: path, commit: original.commit)
            } catch let error as GitError {
                throw EngineError(.environment, "cannot check out run #\(originalID)'s commit \(original.commit.prefix(7)): \(error.description)", cause: error)
            } catch {
                throw EngineError(.environment, "cannot create a worktree at \(path): \(error)")
            }
            worktree = path
            root = path
            let time: Int64
            do {
                time = try session.repo.commitTime(of: original.commit)
            } catch {
                throw EngineError(.environment, "cannot read run #\(originalID)'s commit \(original.commit.prefix(7)): \(error.description)", cause: error)
            }
            head = HeadState(commit: original.commit, branch: original.branch, treeID: "", commitTime: time)
        }
        defer {
            if let worktree { try? session.repo.removeWorktree(at: worktree) }
        }

        var runOptions = options
        // `mlpipe rerun` is recorded `rerun`; a caller that names its own trigger (the
        // server's buttons: `web`) keeps it.
        if options.trigger == .cli || options.trigger == .ci { runOptions.trigger = .rerun }
        let plan = RerunPlan(parentRun: originalID, commit: original.commit, branch: original.branch,
                             pipelineSource: original.pipelineSource, pipelineFile: original.pipelineFile,
                             paramsJSON: Value.object(pipeline.params).canonicalJSON(), reuse: reuse, forced: forced)
        return try await execute(pipeline: pipeline, session: session, head: head, repositoryRoot: root,
                                 options: runOptions, rerun: plan, events: events)
    }
}
