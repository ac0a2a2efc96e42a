import Yams

/// Writes one stage as a `batch/v1` Job: the same container, command, resources, node
/// selector and secret references as its Argo task, with Kubernetes' own retry and
/// deadline fields.
///
/// - `backoffLimit` is the stage's `retries`; the pod's `activeDeadlineSeconds` its
///   `timeout` (per attempt), and the Job's the whole budget: every attempt plus five
///   minutes for scheduling and pulling the image.
/// - `podFailurePolicy` fails the Job at once when mlpipe exits 2 (the pipeline or the
///   command line is wrong) or 3 (the environment is: a missing secret, a remote that
///   cannot be used), which no retry can mend, and does not count a pod that the cluster
///   evicted or pre-empted (`DisruptionTarget`) against `backoffLimit`. It needs
///   `restartPolicy: Never`, which a Job that retries by new pods wants anyway.
/// - `ttlSecondsAfterFinished` deletes the finished Job and its pods.
/// - Two init containers of the same image clone the repository (without checking out)
///   and check out the pinned commit into an `emptyDir` shared with the stage's
///   container, as argv (no shell, so no URL is ever parsed as a command).
public enum KubernetesJobRenderer {
    /// Seconds a Job gets beyond its attempts' deadlines, for scheduling and image pulls.
    public static let schedulingAllowance = 300

    /// The YAML document of the Job called `jobName` (a DNS label; see `jobName(…)`).
    public static func render(_ task: PodTask, jobName: String, pipeline: String, source: SourceCheckout,
                              settings: PodSettings) throws(OrchestrationError) -> String {
        let labels = ManifestYAML.labels(pipeline: pipeline, stage: task.stage)
        var metadata: [(String, Node)] = [("name", ManifestYAML.string(jobName))]
        if let namespace = settings.namespace { metadata.append(("namespace", ManifestYAML.string(namespace))) }
        metadata.append(("labels", ManifestYAML.sorted(labels)))
        metadata.append(("annotations", ManifestYAML.sorted(["mlpipe.dev/commit": source.commit,
                                                             "mlpipe.dev/stage": task.stage])))

        var spec: [(String, Node)] = [("backoffLimit", ManifestYAML.int(task.retries))]
        if let deadline = task.deadlineSeconds {
            spec.append(("activeDeadlineSeconds", ManifestYAML.int(deadline * (task.retries + 1) + schedulingAllowance)))
        }
        spec.append(("ttlSecondsAfterFinished", ManifestYAML.int(settings.secondsAfterFinished)))
        spec.append(("podFailurePolicy", ManifestYAML.map([("rules", ManifestYAML.list([
            ManifestYAML.map([
                ("action", ManifestYAML.string("FailJob")),
                ("onExitCodes", ManifestYAML.map([
                    ("containerName", ManifestYAML.string(task.name)),
                    ("operator", ManifestYAML.string("In")),
                    ("values", ManifestYAML.list([ManifestYAML.int(2), ManifestYAML.int(3)])),
                ])),
            ]),
            ManifestYAML.map([
                ("action", ManifestYAML.string("Ignore")),
                ("onPodConditions", ManifestYAML.list([ManifestYAML.map([
                    ("type", ManifestYAML.string("DisruptionTarget")),
                    ("status", ManifestYAML.string("True")),
                ])])),
            ]),
        ]))])))

        let mounts = ManifestYAML.list([ManifestYAML.map([("name", ManifestYAML.string("source")),
                                                          ("mountPath", ManifestYAML.string(source.path))])])
        func git(_ name: String, _ arguments: [String]) -> Node {
            ManifestYAML.map([
                ("name", ManifestYAML.string(name)),
                ("image", ManifestYAML.string(settings.image)),
                ("command", ManifestYAML.list([ManifestYAML.string("git")])),
                ("args", ManifestYAML.list(arguments.map(ManifestYAML.string))),
                ("volumeMounts", mounts),
            ])
        }
        var pod: [(String, Node)] = [("restartPolicy", ManifestYAML.string("Never"))]
        if let account = settings.serviceAccount { pod.append(("serviceAccountName", ManifestYAML.string(account))) }
        if let deadline = task.deadlineSeconds { pod.append(("activeDeadlineSeconds", ManifestYAML.int(deadline))) }
        if !task.nodeSelector.isEmpty { pod.append(("nodeSelector", ManifestYAML.sorted(task.nodeSelector))) }
        pod.append(("initContainers", ManifestYAML.list([
            git("clone", ["clone", "--quiet", "--no-checkout", source.repository, source.path]),
            git("checkout", ["-C", source.path, "checkout", "--quiet", "--detach", source.commit]),
        ])))
        pod.append(("containers", ManifestYAML.list([
            ManifestYAML.container(task, settings: settings, source: source, named: true, mounts: mounts),
        ])))
        pod.append(("volumes", ManifestYAML.list([ManifestYAML.map([
            ("name", ManifestYAML.string("source")),
            ("emptyDir", ManifestYAML.map([])),
        ])])))
        spec.append(("template", ManifestYAML.map([
            ("metadata", ManifestYAML.map([("labels", ManifestYAML.sorted(labels))])),
            ("spec", ManifestYAML.map(pod)),
        ])))

        return try ManifestYAML.document(ManifestYAML.map([
            ("apiVersion", ManifestYAML.string("batch/v1")),
            ("kind", ManifestYAML.string("Job")),
            ("metadata", ManifestYAML.map(metadata)),
            ("spec", ManifestYAML.map(spec)),
        ]))
    }

    /// `PIPELINE-TASK-SUFFIX` cut to a DNS label of at most 63 characters; `suffix` tells
    /// runs apart (mlpipe gives the run's number and the start of the cache key).
    public static func jobName(pipeline: String, task: String, suffix: String) -> String {
        let tail = "-" + TaskNames.sanitize(suffix)
        var head = TaskNames.sanitize(pipeline) + "-" + task
        head = String(head.prefix(63 - tail.count))
        while head.hasSuffix("-") { head.removeLast() }
        return head + tail
    }
}
