import Foundation
import Orchestration
@testable import PipelineEngine
import PipelineSpec
import Testing

/// How stages become pods: the command, dependencies after pruning, secrets by reference.
@Suite("PodTaskPlan: stages as pods")
struct PodTaskPlanTests {
    static let yaml = """
        version: 1
        name: team
        secrets:
          TOKEN: { env: API_TOKEN }
          CERT: { file: .secrets/cert.pem }
          KUBECONFIG: { file: .secrets/kubeconfig }
        stages:
          a: { run: 'true' }
          b: { run: 'true', needs: [a] }
          c: { run: 'true', needs: [b], secrets: [TOKEN, KUBECONFIG], timeout: 30, retries: 1 }
          d: { run: 'true', needs: [a], secrets: [CERT] }

        """

    func plan() throws -> PodTaskPlan {
        let pipeline = try PipelineLoader.parse(source: Self.yaml, file: "pipelines/team.yaml",
                                                kinds: KindRegistry.core.schemas, secretProviders: ["env", "file"])
        return PodTaskPlan(pipeline: pipeline, pipelinePath: "pipelines/team.yaml",
                           remote: RemoteSetting(url: try RemoteURL(parsing: "s3://cache/team")),
                           params: [ParamOverride(key: "n", value: "2")], cluster: ClusterOptions(store: "sqlite:/data/m.db"))
    }

    @Test("a pod runs its one stage with upstream from the cache, on this machine, with the run's params")
    func command() throws {
        let plan = try plan()
        let task = try plan.task(for: try #require(plan.pipeline.stage(named: "c")))
        #expect(task.arguments == ["run", "pipelines/team.yaml", "--only", "c", "--cached-upstream", "--remote",
                                   "s3://cache/team", "--remote-required", "--executor", "local", "--param", "n=2"])
        #expect(task.dependencies == ["b"])
        #expect(task.environment == ["MLPIPE_STORE": "sqlite:/data/m.db"])
        #expect(task.timeout == 30 && task.retries == 1)
    }

    @Test("an env secret is a Secret key reference; the kubeconfig never reaches a pod; AWS keys are optional")
    func secrets() throws {
        let plan = try plan()
        let task = try plan.task(for: try #require(plan.pipeline.stage(named: "c")))
        #expect(task.secrets.map(\.variable) == ["API_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"])
        #expect(task.secrets[0] == SecretReference(variable: "API_TOKEN", secret: "mlpipe-team", key: "TOKEN"))
        #expect(task.secrets.dropFirst().allSatisfy { $0.optional })
    }

    @Test("a file secret that a stage needs is refused at its line, with the two ways to declare it instead")
    func fileSecretRefused() throws {
        let plan = try plan()
        let stage = try #require(plan.pipeline.stage(named: "d"))
        let error = #expect(throws: EngineError.self) { try plan.task(for: stage) }
        #expect(error?.diagnostics.map(\.rendered) == [
            "pipelines/team.yaml:5:3: error: secret CERT comes from { file: .secrets/cert.pem }, which a pod "
                + "cannot read; stage 'd' runs in a pod, where secrets are environment variables set from the Kubernetes "
                + "Secret 'mlpipe-team': declare it `{ env: CERT }` and put its value under the key CERT "
                + "(`kubectl create secret generic mlpipe-team --from-file=CERT=FILE`), or keep it in Vault and "
                + "declare it `{ vault: \"MOUNT/data/PATH#KEY\" }`"])
    }

    @Test("a kept stage that depended on pruned ones depends on what they depended on")
    func rewiring() throws {
        let plan = try plan()
        #expect(PipelineRunner.rewired(["b"], pruned: ["b"], pipeline: plan.pipeline) == ["a"])
        #expect(PipelineRunner.rewired(["b"], pruned: ["a", "b"], pipeline: plan.pipeline) == [])
        #expect(PipelineRunner.rewired(["b", "a"], pruned: [], pipeline: plan.pipeline) == ["a", "b"])
    }

    @Test("a store URL with a password is refused without repeating it")
    func storePassword() {
        #expect(throws: Never.self) { try PipelineRunner.checkStore("postgresql://mlpipe@db/m") }
        let error = #expect(throws: EngineError.self) { try PipelineRunner.checkStore("postgresql://mlpipe:hunter2@db/m") }
        #expect(error?.message.hasPrefix("--store holds a password") == true)
        #expect(error?.message.contains("hunter2") == false)
    }
}
