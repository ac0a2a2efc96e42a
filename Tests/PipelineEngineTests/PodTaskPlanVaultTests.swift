import Foundation
import TestSupport
import Orchestration
@testable import PipelineEngine
import PipelineSpec
import Testing

/// `{ vault: … }` secrets in pods: the pod's mlpipe logs in to Vault with its service
/// account, so the Workflow and the Job carry the Vault address and the login's role as
/// plain variables, and never a value or a token.
@Suite("PodTaskPlan: vault secrets in pods")
struct PodTaskPlanVaultTests {
    static let yaml = """
        version: 1
        name: team
        secrets:
          DB_PASSWORD: { vault: "secret/data/team/db#password" }
          API_KEY: { vault: "secret/data/team/api#key" }
          TOKEN: { env: API_TOKEN }
        stages:
          train: { run: 'true', secrets: [DB_PASSWORD, TOKEN] }
          serve: { run: 'true', needs: [train], secrets: [DB_PASSWORD, API_KEY] }
          plain: { run: 'true' }

        """

    /// What the exporting mlpipe's environment holds: the Vault login settings for pods,
    /// and its own credentials, which must stay on this machine.
    static let exporter = [
        "VAULT_ADDR": "https://vault.example.com:8200", "VAULT_NAMESPACE": "ml", "VAULT_K8S_ROLE": "mlpipe-pods",
        "VAULT_K8S_MOUNT": "k8s-prod", "VAULT_TOKEN": "hvs.exporter-token", "BAO_TOKEN": "bao-exporter-token",
        "VAULT_ROLE_ID": "role-id-1234", "VAULT_SECRET_ID": "secret-id-5678", "HOME": "/home/ci",
    ]

    func plan(_ environment: [String: String] = Self.exporter, serviceAccount: String? = "mlpipe-runner") throws -> PodTaskPlan {
        let pipeline = try PipelineLoader.parse(source: Self.yaml, file: "pipelines/team.yaml",
                                                kinds: KindRegistry.core.schemas,
                                                secretProviders: ["env", "file", "vault"])
        return PodTaskPlan(pipeline: pipeline, pipelinePath: "pipelines/team.yaml",
                           remote: RemoteSetting(url: try RemoteURL(parsing: "s3://cache/team")), params: [],
                           cluster: ClusterOptions(namespace: "ml", serviceAccount: serviceAccount), environment: environment)
    }

    func task(_ stage: String, _ plan: PodTaskPlan) throws -> PodTask {
        try plan.task(for: try #require(plan.pipeline.stage(named: stage)))
    }

    /// The refusal of `stage`'s pod, as the user reads it.
    func refusal(_ stage: String, _ environment: [String: String], serviceAccount: String? = "mlpipe-runner") throws -> String? {
        let plan = try plan(environment, serviceAccount: serviceAccount)
        let stage = try #require(plan.pipeline.stage(named: stage))
        let error = #expect(throws: EngineError.self) { try plan.task(for: stage) }
        #expect(error?.category == .environment)
        return error?.description
    }

    @Test("a vault secret's pod gets the Vault address, namespace, role and mount as plain variables, and no credential")
    func podVariables() throws {
        let plan = try plan()
        let train = try task("train", plan)
        #expect(train.environment == ["VAULT_ADDR": "https://vault.example.com:8200", "VAULT_NAMESPACE": "ml",
                                      "VAULT_K8S_ROLE": "mlpipe-pods", "VAULT_K8S_MOUNT": "k8s-prod"])
        // The env secret is still a reference; the vault secret is none (the pod reads it itself).
        #expect(train.secrets.map(\.variable) == ["API_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"])
        #expect(try task("plain", plan).environment == [:])
    }

    @Test("BAO_ADDR and BAO_NAMESPACE serve when VAULT_ADDR is unset, and the token path is passed on")
    func baoVariables() throws {
        let plan = try plan(["BAO_ADDR": "http://openbao.vault.svc:8200", "BAO_NAMESPACE": "team",
                             "VAULT_K8S_ROLE": "pods", "VAULT_K8S_TOKEN_PATH": "/var/run/secrets/vault/token"])
        #expect(try task("serve", plan).environment == [
            "VAULT_ADDR": "http://openbao.vault.svc:8200", "VAULT_NAMESPACE": "team", "VAULT_K8S_ROLE": "pods",
            "VAULT_K8S_TOKEN_PATH": "/var/run/secrets/vault/token"])
    }

    @Test("the rendered Workflow and Job carry the VAULT_* variables and none of the exporter's credentials")
    func renderedManifests() throws {
        let plan = try plan()
        let tasks = try ["train", "serve"].map { try task($0, plan) }
        let settings = PodSettings(image: "registry.example.com/mlpipe:0.1.0", namespace: "ml", serviceAccount: "mlpipe-runner")
        let workflow = try ArgoWorkflowRenderer.render(tasks, source: Self.source, settings: settings,
                                                       options: .init(pipeline: "team"))
        let job = try KubernetesJobRenderer.render(tasks[1], jobName: "team-serve-r1-0a1b2c3d", pipeline: "team",
                                                   source: Self.source, settings: settings)
        for (name, yaml) in [("workflow", workflow), ("job", job)] {
            let variables = Self.plainVariables(yaml)
            #expect(variables["VAULT_ADDR"] == "https://vault.example.com:8200", "\(name)")
            #expect(variables["VAULT_K8S_ROLE"] == "mlpipe-pods", "\(name)")
            #expect(variables["VAULT_NAMESPACE"] == "ml", "\(name)")
            #expect(variables["VAULT_K8S_MOUNT"] == "k8s-prod", "\(name)")
            #expect(yaml.contains("serviceAccountName: mlpipe-runner"), "\(name)")
            for leaked in ["VAULT_TOKEN", "BAO_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "hvs.exporter-token",
                           "bao-exporter-token", "role-id-1234", "secret-id-5678", "secret/data/team"] {
                #expect(!yaml.contains(leaked), "\(name) contains \(leaked)")
            }
        }
    }

    @Test("a Workflow and a Job with a service account and the Vault variables pass the Argo schema and kubernetes-validate")
    func manifestsValidate() throws {
        let plan = try plan()
        let tasks = try ["train", "serve"].map { try task($0, plan) }
        let settings = PodSettings(image: "registry.example.com/mlpipe:0.1.0", namespace: "ml", serviceAccount: "mlpipe-runner")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-podvault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let workflow = folder.appendingPathComponent("workflow.yaml").path
        let job = folder.appendingPathComponent("job.yaml").path
        try Data(try ArgoWorkflowRenderer.render(tasks, source: Self.source, settings: settings,
                                                 options: .init(pipeline: "team")).utf8)
            .write(to: URL(fileURLWithPath: workflow))
        try Data(try KubernetesJobRenderer.render(tasks[1], jobName: "team-serve-r1-0a1b2c3d", pipeline: "team",
                                                  source: Self.source, settings: settings).utf8)
            .write(to: URL(fileURLWithPath: job))

        let fixtures = Self.root.appendingPathComponent("Tests/OrchestrationTests/Fixtures")
        let argo = try Self.run(Self.venv + "/bin/python3", [fixtures.appendingPathComponent("check_argo_workflow.py").path,
                                                             fixtures.appendingPathComponent("argo-workflow-subset.json").path,
                                                             workflow])
        #expect(argo.status == 0 && argo.output.contains(": valid against"), "\(argo.output)")
        let kubernetes = try Self.run(Self.venv + "/bin/kubernetes-validate", ["--strict", "-k", "1.30.0", job])
        #expect(kubernetes.status == 0 && kubernetes.output.contains("INFO"), "\(kubernetes.output)")
    }

    @Test("without VAULT_K8S_ROLE the export is refused at the secret, naming the stage and what to set")
    func missingRole() throws {
        var environment = Self.exporter
        environment["VAULT_K8S_ROLE"] = nil
        #expect(try refusal("train", environment) == "pipelines/team.yaml:4:3: error: secret DB_PASSWORD "
            + "({ vault: secret/data/team/db#password }) comes from Vault, and stage 'train' runs in a pod, whose mlpipe "
            + "logs in to Vault itself with the pod's service account (a Kubernetes login); VAULT_K8S_ROLE is not set: "
            + "set VAULT_K8S_ROLE to the Vault role the pods' service account logs in with (here the service account "
            + "'mlpipe-runner'), and VAULT_K8S_MOUNT if its Kubernetes auth is not mounted at auth/kubernetes")
        let both = try #require(try refusal("serve", environment, serviceAccount: nil))
        #expect(both.hasPrefix("pipelines/team.yaml:4:3: error: secrets DB_PASSWORD ({ vault: secret/data/team/db#password }), "
            + "API_KEY ({ vault: secret/data/team/api#key }) come from Vault, and stage 'serve' runs in a pod"), "\(both)")
        #expect(both.contains("(here the namespace's default service account (name another with --service-account))"), "\(both)")
        #expect(!both.contains("hvs.exporter-token"))
    }

    @Test("a loopback Vault address is refused: a pod cannot reach the exporter's 127.0.0.1")
    func loopbackAddress() throws {
        for address in ["http://127.0.0.1:8200", "http://localhost:8200/", "https://[::1]:8200", "http://127.1.2.3:8200"] {
            var environment = Self.exporter
            environment["VAULT_ADDR"] = address
            let message = try #require(try refusal("train", environment))
            #expect(message.contains("VAULT_ADDR is \(address), this machine's loopback address, which a pod cannot reach"),
                    "\(message)")
        }
        var environment = Self.exporter
        environment["VAULT_ADDR"] = nil
        environment["BAO_ADDR"] = "http://localhost:8200"
        #expect(try refusal("train", environment)?.contains("set BAO_ADDR to an address of the Vault server") == true)
        #expect(!PodTaskPlan.isLoopback("vault.example.com") && !PodTaskPlan.isLoopback("10.0.0.7")
            && !PodTaskPlan.isLoopback("127.example.com"))
    }

    @Test("without a Vault address the export says which variable to set")
    func missingAddress() throws {
        let message = try #require(try refusal("train", ["VAULT_K8S_ROLE": "pods", "VAULT_TOKEN": "hvs.x"]))
        #expect(message.hasSuffix("neither VAULT_ADDR nor BAO_ADDR is set here, so the pod would not know where Vault "
            + "is: set VAULT_ADDR to the address of the Vault server that the cluster's pods reach, "
            + "e.g. https://vault.example.com:8200"), "\(message)")
    }

    static let source = SourceCheckout(repository: "https://git.example.com/team/ml.git",
                                       commit: "0123456789abcdef0123456789abcdef01234567")

    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The Python venv with kubernetes-validate and jsonschema: $MLPIPE_VENV, else workspace/venv.
    static var venv: String {
        ProcessInfo.processInfo.environment["MLPIPE_VENV"] ?? root.appendingPathComponent("workspace/venv").path
    }

    /// Runs `executable` with `arguments`; its exit status and output (stdout and stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runTool(executable, arguments)
    }

    /// The `name: X` / `value: Y` pairs of a manifest's container environments.
    static func plainVariables(_ yaml: String) -> [String: String] {
        var result: [String: String] = [:]
        var name: String?
        for line in yaml.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("- name: ") {
                name = String(text.dropFirst("- name: ".count))
            } else if text.hasPrefix("value: "), let current = name {
                result[current] = String(text.dropFirst("value: ".count))
                name = nil
            } else {
                name = nil
            }
        }
        return result
    }
}
