import Foundation
import Orchestration
import PipelineSpec
import Testing

/// A stage as a `batch/v1` Job, and the check that stands in for a cluster:
/// kubernetes-validate with the Kubernetes 1.30 schemas, strictly (no unknown fields).
@Suite("KubernetesJobRenderer: one stage as a Job")
struct KubernetesJobRendererTests {
    static let train = OrchestrationFixtures.tasks[1]

    func render(_ task: PodTask = Self.train) throws -> String {
        try KubernetesJobRenderer.render(task, jobName: "team-sweep-train-lr-0-1-r7-3fa9c2e1", pipeline: "team_sweep",
                                         source: OrchestrationFixtures.source, settings: OrchestrationFixtures.settings)
    }

    @Test("retries, deadlines, TTL and the failure policy are Kubernetes' own fields")
    func jobFields() throws {
        let tree = try OrchestrationFixtures.tree(try render())
        #expect(tree["apiVersion"] as? String == "batch/v1")
        #expect(tree["kind"] as? String == "Job")
        #expect(tree.at("spec.backoffLimit") as? Int == 2)
        #expect(tree.at("spec.activeDeadlineSeconds") as? Int == 600 * 3 + 300)
        #expect(tree.at("spec.template.spec.activeDeadlineSeconds") as? Int == 600)
        #expect(tree.at("spec.ttlSecondsAfterFinished") as? Int == 86_400)
        #expect(tree.at("spec.template.spec.restartPolicy") as? String == "Never")
        #expect(tree.at("spec.podFailurePolicy.rules.0.action") as? String == "FailJob")
        #expect(tree.at("spec.podFailurePolicy.rules.0.onExitCodes.values") as? [Int] == [2, 3])
        #expect(tree.at("spec.podFailurePolicy.rules.0.onExitCodes.containerName") as? String == "train-lr-0-1")
        #expect(tree.at("spec.podFailurePolicy.rules.1.action") as? String == "Ignore")
        #expect(tree.at("spec.podFailurePolicy.rules.1.onPodConditions.0.type") as? String == "DisruptionTarget")
    }

    @Test("the container, command, resources and node selector are the Argo task's, after a clone of the commit")
    func container() throws {
        let tree = try OrchestrationFixtures.tree(try render())
        let pod = try #require(tree.at("spec.template.spec") as? [String: Any])
        #expect(pod.at("initContainers.0.args") as? [String]
            == ["clone", "--quiet", "--no-checkout", "https://git.example.com/team/sweep.git", "/workspace/src"])
        #expect(pod.at("initContainers.1.args") as? [String]
            == ["-C", "/workspace/src", "checkout", "--quiet", "--detach", OrchestrationFixtures.commit])
        #expect(pod.at("containers.0.name") as? String == "train-lr-0-1")
        #expect(pod.at("containers.0.command") as? [String] == ["mlpipe"])
        #expect(pod.at("containers.0.args") as? [String] == Self.train.arguments)
        #expect(pod.at("containers.0.resources.limits") as? [String: String]
            == ["cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1"])
        #expect(pod.at("nodeSelector") as? [String: String] == ["nvidia.com/gpu.present": "true"])
        #expect(pod.at("serviceAccountName") as? String == "mlpipe-runner")
        #expect(tree.at("metadata.name") as? String == "team-sweep-train-lr-0-1-r7-3fa9c2e1")
    }

    @Test("Job names are DNS labels of at most 63 characters")
    func jobNames() {
        #expect(KubernetesJobRenderer.jobName(pipeline: "team_sweep", task: "train", suffix: "r7-3fa9c2e1")
            == "team-sweep-train-r7-3fa9c2e1")
        let long = KubernetesJobRenderer.jobName(pipeline: String(repeating: "p", count: 50),
                                                 task: String(repeating: "t", count: 40), suffix: "r12-abcdef01")
        #expect(long.count == 63)
        #expect(long.hasSuffix("-r12-abcdef01"))
    }

    @Test("a full and a minimal Job pass kubernetes-validate for Kubernetes 1.30, strictly")
    func validates() throws {
        let minimal = PodTask(stage: "prepare", name: "prepare", arguments: ["run", "p.yaml", "--only", "prepare"])
        let folder = try OrchestrationFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        for (name, task) in [("full.yaml", Self.train), ("minimal.yaml", minimal),
                             ("secrets.yaml", OrchestrationFixtures.tasks[2])] {
            let path = folder.appendingPathComponent(name).path
            try Data(try render(task).utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let result = try OrchestrationFixtures.run(OrchestrationFixtures.venv + "/bin/kubernetes-validate",
                                                   ["--strict", "-k", "1.30.0"] + paths)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "INFO").count - 1 == 3, "\(result.output)")
    }

    @Test("kubernetes-validate refuses a Job with a field Kubernetes does not know")
    func validationCatches() throws {
        let yaml = try render().replacingOccurrences(of: "backoffLimit:", with: "backofLimit:")
        let (folder, path) = try OrchestrationFixtures.write(yaml, as: "bad.yaml")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try OrchestrationFixtures.run(OrchestrationFixtures.venv + "/bin/kubernetes-validate",
                                                   ["--strict", "-k", "1.30.0", path])
        #expect(result.status != 0)
        #expect(result.output.contains("backofLimit"), "\(result.output)")
    }
}
