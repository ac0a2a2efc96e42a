import Foundation
import Orchestration
import PipelineSpec
import Testing

/// What a user of `mlpipe export argo` reads in the Workflow, field by field, and the
/// checks that stand in for a cluster: mlpipe's schema of the fields it writes.
@Suite("ArgoWorkflowRenderer: a DAG of pods, one per stage")
struct ArgoWorkflowRendererTests {
    func render(template: Bool = false, gitCredentials: String? = nil) throws -> String {
        try ArgoWorkflowRenderer.render(OrchestrationFixtures.tasks, source: OrchestrationFixtures.source,
                                        settings: OrchestrationFixtures.settings,
                                        options: .init(pipeline: "team_sweep", template: template,
                                                       gitCredentials: gitCredentials))
    }

    @Test("a one-stage workflow reads as written here")
    func golden() throws {
        let task = PodTask(stage: "train", name: "train", arguments: ["run", "pipelines/p.yaml", "--only", "train"],
                           timeout: 60, retries: 1)
        let yaml = try ArgoWorkflowRenderer.render([task], source: OrchestrationFixtures.source,
                                                   settings: PodSettings(image: "mlpipe:1"), options: .init(pipeline: "p"))
        #expect(yaml == """
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata:
              generateName: p-
              labels:
                app.kubernetes.io/managed-by: mlpipe
                mlpipe.dev/pipeline: p
              annotations:
                mlpipe.dev/commit: 0123456789abcdef0123456789abcdef01234567
                mlpipe.dev/repository: https://git.example.com/team/sweep.git
            spec:
              entrypoint: pipeline
              podGC:
                strategy: OnPodSuccess
              ttlStrategy:
                secondsAfterCompletion: 86400
              templates:
              - name: pipeline
                dag:
                  tasks:
                  - name: train
                    template: train
              - name: train
                metadata:
                  labels:
                    app.kubernetes.io/managed-by: mlpipe
                    mlpipe.dev/pipeline: p
                    mlpipe.dev/stage: train
                inputs:
                  artifacts:
                  - name: source
                    path: /workspace/src
                    git:
                      repo: https://git.example.com/team/sweep.git
                      revision: 0123456789abcdef0123456789abcdef01234567
                activeDeadlineSeconds: '60'
                retryStrategy:
                  limit: '1'
                  retryPolicy: Always
                  backoff:
                    duration: 10s
                    factor: '2'
                    maxDuration: 130s
                container:
                  image: mlpipe:1
                  command:
                  - mlpipe
                  args:
                  - run
                  - pipelines/p.yaml
                  - --only
                  - train
                  workingDir: /workspace/src

            """)
    }

    @Test("each task depends on its stage's upstream tasks and runs `mlpipe run --only STAGE` in the checkout")
    func dependenciesAndCommand() throws {
        let tree = try OrchestrationFixtures.tree(try render())
        let tasks = try #require(tree.at("spec.templates.0.dag.tasks") as? [[String: Any]])
        #expect(tasks.map { $0["name"] as? String } == ["prepare", "train-lr-0-1", "evaluate"])
        #expect(tasks.map { $0["dependencies"] as? [String] } == [nil, ["prepare"], ["train-lr-0-1"]])
        #expect(tree.at("spec.entrypoint") as? String == "pipeline")
        #expect(tree.at("spec.templates.2.name") as? String == "train-lr-0-1")
        #expect(tree.at("spec.templates.2.container.args") as? [String] == [
            "run", "pipelines/sweep.yaml", "--only", "train[lr=0.1]", "--cached-upstream",
            "--remote", "s3://team-cache/mlpipe", "--remote-required"])
        #expect(tree.at("spec.templates.2.container.workingDir") as? String == "/workspace/src")
        #expect(tree.at("spec.templates.2.inputs.artifacts.0.git.revision") as? String == OrchestrationFixtures.commit)
        let labels = tree.at("spec.templates.2.metadata.labels") as? [String: String]
        #expect(labels?["mlpipe.dev/stage"] == "train-lr-0.1")
    }

    @Test("timeout, retries, resources with the GPU, node selector and the store are the stage's")
    func limits() throws {
        let tree = try OrchestrationFixtures.tree(try render())
        let train = try #require(tree.at("spec.templates.2") as? [String: Any])
        #expect(train.at("activeDeadlineSeconds") as? String == "600")
        #expect(train.at("retryStrategy.limit") as? String == "2")
        #expect(train.at("retryStrategy.backoff.maxDuration") as? String == "1830s")
        #expect(train.at("container.resources.requests") as? [String: String] == ["cpu": "500m", "memory": "1Gi"])
        #expect(train.at("container.resources.limits") as? [String: String]
            == ["cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1"])
        #expect(train.at("nodeSelector") as? [String: String] == ["nvidia.com/gpu.present": "true"])
        #expect(train.at("container.env") as? [[String: String]] == [["name": "MLPIPE_RUN_KEY", "value": "{{workflow.uid}}"],
                                                                     ["name": "MLPIPE_STORE", "value": "postgresql://mlpipe@db/mlpipe"]])
        let prepare = try #require(tree.at("spec.templates.1") as? [String: Any])
        #expect(prepare["activeDeadlineSeconds"] == nil)
        #expect(prepare["retryStrategy"] == nil)
        #expect(tree.at("spec.podGC.strategy") as? String == "OnPodSuccess")
        #expect(tree.at("spec.ttlStrategy.secondsAfterCompletion") as? Int == 86_400)
        #expect(tree.at("spec.serviceAccountName") as? String == "mlpipe-runner")
        #expect(tree.at("metadata.namespace") as? String == "ml")
        #expect(tree.at("metadata.generateName") as? String == "team-sweep-")
    }

    @Test("secrets are named by Secret and key, never by value")
    func secretsByReference() throws {
        let yaml = try render()
        let tree = try OrchestrationFixtures.tree(yaml)
        let env = try #require(tree.at("spec.templates.3.container.env") as? [[String: Any]])
        #expect(env.map { $0["name"] as? String } == ["API_TOKEN", "AWS_ACCESS_KEY_ID"])
        #expect(env.allSatisfy { $0["value"] == nil })
        #expect((env[0] as [String: Any]).at("valueFrom.secretKeyRef") as? [String: String]
            == ["name": "mlpipe-sweep", "key": "API_TOKEN"])
        #expect((env[1] as [String: Any]).at("valueFrom.secretKeyRef.optional") as? Bool == true)
    }

    @Test("a template has a name instead of a generated one, and the git artifact takes the credentials' Secret")
    func workflowTemplate() throws {
        let tree = try OrchestrationFixtures.tree(try render(template: true, gitCredentials: "git-creds"))
        #expect(tree["kind"] as? String == "WorkflowTemplate")
        #expect(tree.at("metadata.name") as? String == "team-sweep")
        #expect(tree.at("metadata.generateName") == nil)
        #expect(tree.at("spec.templates.1.inputs.artifacts.0.git.passwordSecret") as? [String: String]
            == ["name": "git-creds", "key": "password"])
    }

    @Test("strings that YAML would read as numbers or booleans stay strings")
    func quoting() throws {
        let task = PodTask(stage: "s", name: "s", arguments: ["run", "true", "1.0", "null", "a: b", "- x"],
                           nodeSelector: ["gpu": "true", "count": "2"])
        let yaml = try ArgoWorkflowRenderer.render([task], source: OrchestrationFixtures.source,
                                                   settings: PodSettings(image: "mlpipe:1"), options: .init(pipeline: "p"))
        let tree = try OrchestrationFixtures.tree(yaml)
        #expect(tree.at("spec.templates.1.container.args") as? [String] == ["run", "true", "1.0", "null", "a: b", "- x"])
        #expect(tree.at("spec.templates.1.nodeSelector") as? [String: String] == ["gpu": "true", "count": "2"])
    }

    static let checker = OrchestrationFixtures.fixtures.appendingPathComponent("check_argo_workflow.py").path
    static let schema = OrchestrationFixtures.fixtures.appendingPathComponent("argo-workflow-subset.json").path

    @Test("a Workflow and a WorkflowTemplate pass mlpipe's schema of the Argo fields it writes")
    func schema() throws {
        let folder = try OrchestrationFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        for (name, template) in [("workflow.yaml", false), ("template.yaml", true)] {
            let path = folder.appendingPathComponent(name).path
            try Data(try render(template: template, gitCredentials: template ? "git-creds" : nil).utf8)
                .write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let result = try OrchestrationFixtures.run(OrchestrationFixtures.venv + "/bin/python3", [Self.checker, Self.schema] + paths)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: ": valid against").count - 1 == 2, "\(result.output)")
    }

    @Test("the schema check catches a misplaced field, a wrong type and an unknown enum value")
    func schemaCatches() throws {
        var yaml = try render()
        yaml = yaml.replacingOccurrences(of: "strategy: OnPodSuccess", with: "strategy: OnSuccess")
            .replacingOccurrences(of: "nodeSelector:", with: "nodeSelektor:")
            .replacingOccurrences(of: "limit: '2'", with: "limit: 2")
        let (folder, path) = try OrchestrationFixtures.write(yaml, as: "bad.yaml")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try OrchestrationFixtures.run(OrchestrationFixtures.venv + "/bin/python3", [Self.checker, Self.schema, path])
        #expect(result.status == 1)
        #expect(result.output.contains("spec.podGC.strategy: 'OnSuccess' is not one of"), "\(result.output)")
        #expect(result.output.contains("spec.templates.2: Additional properties are not allowed ('nodeSelektor' was unexpected)"),
                "\(result.output)")
        #expect(result.output.contains("spec.templates.2.retryStrategy.limit: 2 is not of type 'string'"), "\(result.output)")
    }
}
