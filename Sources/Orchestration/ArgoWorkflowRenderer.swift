import Yams

/// Writes a pipeline's tasks as an Argo Workflows `Workflow` (or `WorkflowTemplate`):
/// one DAG, one container template per task.
///
/// ```yaml
/// apiVersion: argoproj.io/v1alpha1
/// kind: Workflow
/// metadata: { generateName: iris-, labels: …, annotations: { mlpipe.dev/commit: … } }
/// spec:
///   entrypoint: pipeline
///   podGC: { strategy: OnPodSuccess }
///   ttlStrategy: { secondsAfterCompletion: 86400 }
///   templates:
///   - name: pipeline
///     dag: { tasks: [{ name: train, template: train, dependencies: [prepare] }, …] }
///   - name: train
///     inputs: { artifacts: [{ name: source, path: /workspace/src, git: { repo: …, revision: SHA } }] }
///     activeDeadlineSeconds: "600"
///     retryStrategy: { limit: "2", retryPolicy: Always, backoff: { duration: 10s, factor: "2", maxDuration: 10m } }
///     nodeSelector: …
///     container: { image: …, command: [mlpipe], args: [run, …], workingDir: /workspace/src, env: …, resources: … }
/// ```
///
/// The commit is checked out by Argo's `git` input artifact (Argo clones it into the
/// pod before the container starts; its credentials, if the repository needs them, are
/// the artifact repository's or `gitCredentials` below), so the image needs no clone
/// step of its own. Integer-or-string fields (`activeDeadlineSeconds`, `limit`,
/// `factor`) are written as strings, the type Argo's published JSON schema gives them.
/// Pods that succeeded are deleted at once (`podGC: OnPodSuccess`), failed ones stay
/// for `kubectl logs` until the Workflow's TTL removes it.
public enum ArgoWorkflowRenderer {
    /// What the workflow is and what it names outside itself.
    public struct Options: Sendable, Equatable {
        /// The pipeline's name: the Workflow's `generateName` prefix or the template's name.
        public var pipeline: String
        /// A `WorkflowTemplate` (submitted later with `argo submit --from`) instead of a `Workflow`.
        public var template: Bool
        /// A Secret holding the repository's credentials for the git artifact: its
        /// `username` and `password` keys; nil for a public repository.
        public var gitCredentials: String?

        /// Options for `pipeline`.
        public init(pipeline: String, template: Bool = false, gitCredentials: String? = nil) {
            self.pipeline = pipeline
            self.template = template
            self.gitCredentials = gitCredentials
        }
    }

    /// The DAG template's name; give it to `TaskNames` as reserved, so no task takes it.
    public static let entrypoint = "pipeline"

    /// The YAML document.
    public static func render(_ tasks: [PodTask], source: SourceCheckout, settings: PodSettings,
                              options: Options) throws(OrchestrationError) -> String {
        let name = String(TaskNames.sanitize(options.pipeline).prefix(52))
        var metadata: [(String, Node)] = []
        metadata.append(options.template ? ("name", ManifestYAML.string(name))
                                         : ("generateName", ManifestYAML.string(name + "-")))
        if let namespace = settings.namespace { metadata.append(("namespace", ManifestYAML.string(namespace))) }
        metadata.append(("labels", ManifestYAML.sorted(ManifestYAML.labels(pipeline: options.pipeline))))
        metadata.append(("annotations", ManifestYAML.sorted(["mlpipe.dev/commit": source.commit,
                                                             "mlpipe.dev/repository": source.repository])))

        var spec: [(String, Node)] = [("entrypoint", ManifestYAML.string(entrypoint))]
        if let account = settings.serviceAccount { spec.append(("serviceAccountName", ManifestYAML.string(account))) }
        spec.append(("podGC", ManifestYAML.map([("strategy", ManifestYAML.string("OnPodSuccess"))])))
        spec.append(("ttlStrategy", ManifestYAML.map([
            ("secondsAfterCompletion", ManifestYAML.int(settings.secondsAfterFinished)),
        ])))
        let dagTasks = tasks.map { task -> Node in
            var pairs: [(String, Node)] = [("name", ManifestYAML.string(task.name)),
                                           ("template", ManifestYAML.string(task.name))]
            if !task.dependencies.isEmpty {
                pairs.append(("dependencies", ManifestYAML.list(task.dependencies.map(ManifestYAML.string))))
            }
            return ManifestYAML.map(pairs)
        }
        var templates = [ManifestYAML.map([("name", ManifestYAML.string(entrypoint)),
                                           ("dag", ManifestYAML.map([("tasks", ManifestYAML.list(dagTasks))]))])]
        templates += tasks.map { template(for: $0, source: source, settings: settings, options: options) }
        spec.append(("templates", ManifestYAML.list(templates)))

        return try ManifestYAML.document(ManifestYAML.map([
            ("apiVersion", ManifestYAML.string("argoproj.io/v1alpha1")),
            ("kind", ManifestYAML.string(options.template ? "WorkflowTemplate" : "Workflow")),
            ("metadata", ManifestYAML.map(metadata)),
            ("spec", ManifestYAML.map(spec)),
        ]))
    }

    /// The container template of one task.
    static func template(for task: PodTask, source: SourceCheckout, settings: PodSettings, options: Options) -> Node {
        var git: [(String, Node)] = [("repo", ManifestYAML.string(source.repository)),
                                     ("revision", ManifestYAML.string(source.commit))]
        if let secret = options.gitCredentials {
            git.append(("usernameSecret", ManifestYAML.map([("name", ManifestYAML.string(secret)),
                                                            ("key", ManifestYAML.string("username"))])))
            git.append(("passwordSecret", ManifestYAML.map([("name", ManifestYAML.string(secret)),
                                                            ("key", ManifestYAML.string("password"))])))
        }
        var pairs: [(String, Node)] = [("name", ManifestYAML.string(task.name))]
        pairs.append(("metadata", ManifestYAML.map([
            ("labels", ManifestYAML.sorted(ManifestYAML.labels(pipeline: options.pipeline, stage: task.stage))),
        ])))
        pairs.append(("inputs", ManifestYAML.map([("artifacts", ManifestYAML.list([ManifestYAML.map([
            ("name", ManifestYAML.string("source")),
            ("path", ManifestYAML.string(source.path)),
            ("git", ManifestYAML.map(git)),
        ])]))])))
        if let deadline = task.deadlineSeconds {
            pairs.append(("activeDeadlineSeconds", ManifestYAML.string(String(deadline))))
        }
        if task.retries > 0 {
            pairs.append(("retryStrategy", ManifestYAML.map([
                ("limit", ManifestYAML.string(String(task.retries))),
                ("retryPolicy", ManifestYAML.string("Always")),
                ("backoff", ManifestYAML.map([
                    ("duration", ManifestYAML.string("10s")),
                    ("factor", ManifestYAML.string("2")),
                    ("maxDuration", ManifestYAML.string(maxDuration(task))),
                ])),
            ])))
        }
        if !task.nodeSelector.isEmpty { pairs.append(("nodeSelector", ManifestYAML.sorted(task.nodeSelector))) }
        pairs.append(("container", ManifestYAML.container(joiningOneRun(task), settings: settings, source: source,
                                                          named: false)))
        return ManifestYAML.map(pairs)
    }

    /// The variable that makes the tasks of one submitted workflow record into one run:
    /// `MLPIPE_RUN_KEY` set to the Workflow's uid, which Argo fills in when the Workflow is
    /// submitted (a `WorkflowTemplate` gets a new one per submission) and keeps across a
    /// task's retries. Only with a shared store (`MLPIPE_STORE`): without one, each pod's
    /// history is its own and goes with the pod.
    static func joiningOneRun(_ task: PodTask) -> PodTask {
        guard task.environment["MLPIPE_STORE"] != nil else { return task }
        var task = task
        task.environment[runKeyVariable] = "{{workflow.uid}}"
        return task
    }

    /// The variable `mlpipe run` reads its `--run-key` from.
    public static let runKeyVariable = "MLPIPE_RUN_KEY"

    /// How long all attempts together may take: every attempt's deadline plus the
    /// back-off between them, or an hour a try without a timeout.
    static func maxDuration(_ task: PodTask) -> String {
        let attempts = task.retries + 1
        let perAttempt = task.deadlineSeconds ?? 3600
        var backoff = 0
        var step = 10
        for _ in 0..<task.retries {
            backoff += step
            step *= 2
        }
        return "\(perAttempt * attempts + backoff)s"
    }
}
