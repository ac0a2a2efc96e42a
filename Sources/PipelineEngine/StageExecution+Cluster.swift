import Foundation
import Orchestration
import PipelineSpec
import RunStore

extension StageExecution {
    /// Where this stage runs: `--executor` on the command line, else the stage's
    /// `executor:`, else this machine. The command line wins so that the pod a Job starts
    /// (`--executor local`) never starts another Job.
    var executorName: StageExecutorName {
        context.options.executor ?? stage.placement.executor ?? .local
    }

    /// Runs the stage as a Kubernetes Job and takes its result from the remote cache.
    ///
    /// The Job runs `mlpipe run … --only STAGE --cached-upstream --executor local` at
    /// this run's commit (see `PodTaskPlan`), which computes the stage in the cluster and
    /// uploads its result under the same key this run computed; the result then comes
    /// down as a remote hit would. So the stage needs a remote, a clean commit (the pod
    /// sees the commit, not this working tree), a cacheable result, and the pipeline's
    /// `KUBECONFIG` secret (the kubeconfig's content; written to a 0600 file for kubectl
    /// and removed after; listed by the stages that run on Kubernetes, but never given to
    /// their pods).
    /// kubectl's commands and output, and the Job's logs, go to the stage's log. The Job
    /// retries by itself (`backoffLimit`), so the stage is not retried here.
    func computeOnCluster(kind: any StageKind, key: StageKey, cacheable: Bool,
                          record: inout StageRecord) async -> (StageOutcome, StageSummary) {
        let refusal = { (why: String) in
            "stage '\(self.stage.name)' runs on Kubernetes (`executor: kubernetes` or --executor kubernetes), \(why)"
        }
        guard context.remote != nil,
              let setting = try? RemoteLink.setting(options: context.options, pipeline: context.pipeline,
                                                    environment: ProcessInfo.processInfo.environment) else {
            return await finish(&record, status: .failed, error: refusal(
                "which hands its result back through the remote cache, and this run has none; give one with --remote, "
                + "MLPIPE_REMOTE or `remote:`"), category: .environment)
        }
        guard cacheable else {
            return await finish(&record, status: .failed, error: refusal(
                "which hands its result back through the cache, but the stage is not cached; remove `cache: false` "
                + "(and --no-cache), or run it here"))
        }
        guard !context.inputs.isDirty else {
            return await finish(&record, status: .failed, error: refusal(
                "where the pod checks out commit \(context.head.shortCommit), but inputs have uncommitted changes "
                + "(\(context.inputs.dirtyPaths.prefix(3).joined(separator: ", "))); commit them first"),
                category: .environment)
        }
        guard let kubeconfig = context.secrets.values[PodTaskPlan.kubeconfigSecret] else {
            return await finish(&record, status: .failed, error: refusal(
                "and mlpipe needs the cluster's kubeconfig to start its Job: declare `\(PodTaskPlan.kubeconfigSecret): "
                + "{ file: PATH }` under `secrets:` and list it in the `secrets:` of the stages that run on Kubernetes"),
                category: .environment)
        }

        let logPath = context.workspace.logPath(run: runID, stage: stage.name)
        let log: LogSink
        do {
            try Self.emptyFolder(stageDirectory)
            log = try LogSink(path: logPath, masker: masker)
        } catch {
            return await finish(&record, status: .failed, error: "cannot prepare the stage's log: \(error)", category: .environment)
        }
        record.logPath = logPath
        defer { try? log.close() }
        record.attempts = 1
        await save(&record, outputs: nil)
        context.events(.stageStarted(stage: stage.name, attempt: 1, at: Date()))

        let job: String
        let manifest = context.workspace.root + "/tmp/jobs/\(runID)-\(TaskNames.sanitize(stage.name)).yaml"
        let kubeconfigPath = context.workspace.root + "/tmp/jobs/\(runID)-\(TaskNames.sanitize(stage.name)).kubeconfig"
        do {
            let pipelinePath = try PipelineLocator.locate(context.options.pipeline, repositoryRoot: context.repositoryRoot,
                                                          currentDirectory: context.options.currentDirectory).path
            let plan = PodTaskPlan(pipeline: context.pipeline,
                                   pipelinePath: PipelineRunner.relative(pipelinePath, to: context.repositoryRoot),
                                   remote: setting, params: context.options.params, cluster: context.options.cluster)
            var task = try plan.task(for: stage)
            task.dependencies = []
            let source = try PodTaskPlan.source(repositoryRoot: context.repositoryRoot, commit: context.head.commit,
                                                cluster: context.options.cluster)
            job = KubernetesJobRenderer.jobName(pipeline: context.pipeline.name, task: task.name,
                                                suffix: "r\(runID)-\(key.text.dropFirst("sha256:".count).prefix(8))")
            let settings = PodSettings(image: context.options.cluster.image, namespace: context.options.cluster.namespace,
                                       serviceAccount: context.options.cluster.serviceAccount)
            let yaml = try KubernetesJobRenderer.render(task, jobName: job, pipeline: context.pipeline.name,
                                                        source: source, settings: settings)
            try FileManager.default.createDirectory(atPath: (manifest as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: manifest), options: .atomic)
            // The kubeconfig exists only while kubectl needs it, readable by its owner only.
            guard FileManager.default.createFile(atPath: kubeconfigPath, contents: Data(kubeconfig.utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw EngineError(.environment, "cannot write the kubeconfig to \(kubeconfigPath)")
            }
        } catch let error as EngineError {
            return await finish(&record, status: .failed, error: masker.mask(error.description),
                                category: error.category == .definition ? nil : .environment)
        } catch {
            return await finish(&record, status: .failed, error: masker.mask("cannot render the Job: \(error)"), category: .environment)
        }
        defer { try? FileManager.default.removeItem(atPath: kubeconfigPath) }

        let runner = KubectlJobRunner(kubeconfig: kubeconfigPath, executable: context.options.cluster.kubectl,
                                      namespace: context.options.cluster.namespace)
        let budget = (stage.timeout.map { Int($0.rounded(.up)) } ?? 3600) * (stage.retries + 1)
            + KubernetesJobRenderer.schedulingAllowance
        let outcome: KubectlJobRunner.Outcome
        do {
            outcome = try await runner.run(manifest: manifest, job: job, timeoutSeconds: budget, log: { log.line($0) })
        } catch {
            return await finish(&record, status: .failed, error: masker.mask(error.description), tail: log.tail)
        }
        if Task.isCancelled { return await finish(&record, status: .cancelled, error: "cancelled (Job \(job) deleted)") }
        switch outcome {
        case .complete: break
        case .failed:
            return await finish(&record, status: .failed, error: "Job \(job) failed; its logs are in the stage's log",
                                tail: log.tail)
        case .timedOut:
            return await finish(&record, status: .failed,
                                error: "Job \(job) did not complete or fail within \(budget)s; see `kubectl describe job/\(job)`",
                                tail: log.tail)
        }
        return await takeClusterResult(key: key, job: job, log: log, record: &record)
    }

    /// The result the Job put on the remote, downloaded into this run's folder.
    func takeClusterResult(key: StageKey, job: String, log: LogSink,
                           record: inout StageRecord) async -> (StageOutcome, StageSummary) {
        switch await remoteHit(key: key, record: &record) {
        case .failed(let result):
            return result
        case .none:
            return await finish(&record, status: .failed,
                                error: "Job \(job) completed, but the remote cache has no result for the stage's key "
                                    + "\(key.text.prefix(19))…; the pod computed a different key (its commit, params or "
                                    + "mlpipe version differ) or could not upload: see the stage's log", tail: log.tail)
        case .hit(let hit, _):
            let outputs: [String: OutputRecord]
            do {
                outputs = try await cache.materialize(hit, declared: stage.outputs, runID: runID, stage: stage.name,
                                                      into: stageDirectory)
            } catch {
                return await finish(&record, status: .failed,
                                    error: "cannot restore the result of Job \(job): \(error)", category: .environment)
            }
            record.metricsJSON = hit.entry.metricsJSON
            record.resultsJSON = hit.entry.resultsJSON
            record.exitCode = 0
            record.reason = (record.reason.map { $0 + "; " } ?? "") + "computed by Kubernetes Job \(job)"
            return await finish(&record, status: .succeeded, outputs: outputs, metrics: hit.metrics, results: hit.results)
        }
    }
}
