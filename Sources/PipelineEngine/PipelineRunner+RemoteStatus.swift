import Foundation
import GitState
import PipelineSpec
import RunStore
import S3Store

extension PipelineRunner {
    /// The stages whose result the remote cache has at `head`, each with the sentence
    /// that says who made it, in topological order.
    ///
    /// Keys are computed as a pod at the commit computes them: inputs from the commit's
    /// tree (the working tree is not looked at), upstream outputs from the remote's
    /// entries. A stage whose upstream is not on the remote cannot know its key (its
    /// inputs are not made yet) and is not cached; nor is one with `cache: false`. Only
    /// the secrets the remote names are resolved (for its credentials); none enters a key
    /// by value. A remote that cannot be asked is an error: a workflow pruned on a guess
    /// would run stages on missing inputs.
    func remotelyCached(pipeline: Pipeline, session: Session, head: HeadState, remote setting: RemoteSetting,
                        options: RunOptions) async throws(EngineError) -> [(stage: String, origin: String)] {
        let declared = pipeline.secrets.filter { setting.secretNames.contains($0.key) }
        let secrets = try await ResolvedSecrets.resolve(declared, providers: secretProviders(session.repo.workdir))
        let credentials = try RemoteLink.credentials(for: setting, secrets: secrets,
                                                     environment: ProcessInfo.processInfo.environment)
        let remote = remoteCaches(setting.url, credentials)
        let all = Set(pipeline.stages.map(\.name))
        let inputs = try InputPlan.make(pipeline: pipeline, selected: all, repo: session.repo, commit: head.commit,
                                        assumeClean: true)
        let context = RunContext(
            runID: 0, pipeline: pipeline, head: head, repositoryRoot: session.repo.workdir, workspace: session.workspace,
            runStore: session.runStore, cache: session.cache, kinds: kinds, executor: executor,
            secrets: ResolvedSecrets(values: [:]), inputs: inputs, options: options, forced: [],
            reuse: [:], positions: [:], events: { _ in })

        var outcomes: [String: StageOutcome] = [:]
        var found: [(stage: String, origin: String)] = []
        for name in pipeline.topologicalOrder {
            guard let stage = pipeline.stage(named: name), let kind = kinds.kind(named: stage.kind),
                  stage.dependencies.allSatisfy({ outcomes[$0] != nil }) else { continue }
            var upstream: [String: StageOutcome] = [:]
            for dependency in stage.dependencies { upstream[dependency] = outcomes[dependency] }
            let execution = StageExecution(context: context, stage: stage, upstream: upstream)
            guard execution.isCacheable(kind), let components = try? execution.keyComponents(kind: kind) else { continue }
            let key = StageKey(components)
            let entry: ActionEntry?
            do {
                entry = try await remote.entry(key: key.text)
            } catch {
                throw EngineError(.environment,
                    "cannot ask the remote cache \(remote) which stages it has (--prune-cached): "
                    + "\(secrets.masker.mask(error.message)); check the URL and credentials, or leave out --prune-cached",
                    cause: error)
            }
            guard let entry else { continue }
            var outputs: [String: OutputRecord] = [:]
            for output in entry.outputs {
                outputs[output.name] = OutputRecord(runID: 0, stage: name, name: output.name, digest: output.digest,
                                                    kind: output.kind, size: output.size, path: output.path)
            }
            outcomes[name] = StageOutcome(status: .cached, outputs: outputs,
                                          metrics: entry.metricsJSON.flatMap { Value.fromJSON(Data($0.utf8)) },
                                          results: StageCache.decodeResults(entry.resultsJSON))
            found.append((name, "run #\(entry.origin.run) on \(entry.origin.host), \(entry.origin.createdAt.formatted(.iso8601))"))
        }
        return found
    }
}
