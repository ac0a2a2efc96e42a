import Foundation
import TestSupport
import Testing

/// The image the cluster pipelines register: by digest, never pulled (no cluster runs here).
private let clusterImage = "registry.example.com/ml/scaler@sha256:" + String(repeating: "ab", count: 32)

/// A credential inside the test kubeconfig: it must never reach the output.
private let clusterToken = "s3cr3t-cluster-token-8d1f"

private let kubeconfig = """
    apiVersion: v1
    kind: Config
    clusters:
    - name: test
      cluster: { server: "https://127.0.0.1:6443" }
    users:
    - name: ci
      user:
        token: \(clusterToken)
    contexts:
    - name: test
      context: { cluster: test, user: ci }
    current-context: test

    """

/// package -> register (with an image by digest) -> `cluster` (deploy, target kubernetes)
/// -> `host` (a command that writes the cluster stage's `host` result to a file).
/// `apply` adds `apply: true` with the kubeconfig secret, and a `manifests` output (`k8s`).
private func clusterPipeline(apply: Bool = false, resources: String? = nil) -> String {
    let limits = resources ?? """
                  requests: { cpu: 250m, memory: 256Mi }
                  limits: { cpu: "1", memory: 512Mi }
        """
    return """
        version: 1
        name: scaler
        params:
          scale: "1"
        \(apply ? "secrets:\n  KUBECONFIG: { env: TEST_KUBECONFIG }\n" : "")stages:
          package:
            run: python3 scripts/package.py ${{ outputs.package }}
            env: { SCALE: "${{ params.scale }}" }
            inputs: [scripts/package.py]
            outputs: { package: package }
          register:
            kind: register
            with:
              name: scaler
              package: ${{ stages.package.outputs.package }}
              image: \(clusterImage)
              aliases: [staging]
          cluster:
            kind: deploy
            needs: [register]
            with:
              model: scaler@staging
              target: kubernetes
        \(apply ? "      apply: true\n      kubeconfig: KUBECONFIG\n      rollout_timeout: 30\n" : "")      kubernetes:
                namespace: ml
                resources:
        \(limits)
        \(apply ? "    secrets: [KUBECONFIG]\n    outputs: { manifests: k8s }\n" : "")  host:
            run: printf '%s' "${{ stages.cluster.results.host }}" > ${{ outputs.host }}
            outputs: { host: host.txt }

        """
}

/// A fake `kubectl` first on mlpipe's PATH: it appends each call's arguments to
/// `calls.txt`, and the mode of the `--kubeconfig` file to `modes.txt`. A call whose
/// arguments contain `$FAKE_KUBECTL_FAIL` prints an error and the kubeconfig's token line
/// (what a careless tool might print) and exits 1.
private struct FakeKubectl {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fake-kubectl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            printf '%s\\n' "$*" >> '\(folder.path)/calls.txt'
            config=
            previous=
            for argument in "$@"; do
                if [ "$previous" = --kubeconfig ]; then config=$argument; stat -c '%a' "$argument" >> '\(folder.path)/modes.txt'; fi
                previous=$argument
            done
            if [ -n "$FAKE_KUBECTL_FAIL" ]; then
                case "$*" in *"$FAKE_KUBECTL_FAIL"*)
                    echo 'error: deployment "scaler" exceeded its progress deadline'
                    grep token "$config"
                    exit 1;;
                esac
            fi
            exit 0

            """
        let path = folder.appendingPathComponent("kubectl").path
        try FakeTool.install(script, at: path)
    }

    func lines(_ name: String) -> [String] {
        ((try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// mlpipe's environment: the fake first on PATH, the kubeconfig secret, and `fail`.
    func environment(_ base: [String: String], fail: String? = nil) -> [String: String] {
        var environment = base
        environment["PATH"] = folder.path + ":" + (base["PATH"] ?? "/usr/bin:/bin")
        environment["TEST_KUBECONFIG"] = kubeconfig
        environment["FAKE_KUBECTL_FAIL"] = fail ?? ""
        return environment
    }
}

@Suite("kind: deploy, kubernetes target (no cluster: rendered, and applied with a fake kubectl)", .serialized)
struct DeployClusterTests {
    @Test("a kubernetes target renders its manifests with the image by digest and hands on the Service's DNS name")
    func renders() throws {
        let fixture = try DeployRepo(pipeline: clusterPipeline())
        let result = try fixture.repo.mlpipe(arguments: ["run"], env: fixture.environment, timeout: 180)
        #expect(result.status == 0, "\(result)")
        let results = try #require(try fixture.repo.stages()["cluster"]?["results"] as? [String: Any])
        #expect(results["host"] as? String == "scaler.ml.svc.cluster.local")
        #expect(results["endpoint"] as? String == "http://scaler.ml.svc.cluster.local:8080")
        let manifests = try #require(results["manifests"] as? [String])
        let names = manifests.map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(names.contains("10-deployment.yaml") && names.contains("11-service.yaml"), "\(names)")
        #expect(manifests.allSatisfy { $0.hasPrefix(fixture.repo.root + "/workspace/runs/") && $0.contains("/cluster/manifests/") })
        let deployment = try #require(manifests.first { $0.hasSuffix("/10-deployment.yaml") })
        let text = try String(contentsOfFile: deployment, encoding: .utf8)
        #expect(text.contains("image: \"\(clusterImage)\"") && text.contains("memory: \"512Mi\""), "\(text)")
        #expect(fixture.repo.read("workspace/runs/1/host/host.txt") == "scaler.ml.svc.cluster.local")

        let listed = try fixture.deployments()
        #expect(listed.count == 1)
        #expect(listed.first?["target"] as? String == "kubernetes" && listed.first?["state"] as? String == "rendered")
        #expect(listed.first?["endpoint"] as? String == "http://scaler.ml.svc.cluster.local:8080")
        #expect(listed.first?["model"] as? String == "scaler" && listed.first?["version"] as? Int == 1)
        let table = try fixture.repo.mlpipe("deployments")
        #expect(table.status == 0 && table.lines.dropFirst().first?.contains(" rendered ") == true, "\(table)")
    }

    @Test("apply runs kubectl on the `manifests` output with a 0600 kubeconfig that is removed, and records applied")
    func applies() throws {
        let fixture = try DeployRepo(pipeline: clusterPipeline(apply: true))
        let fake = try FakeKubectl()
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let result = try fixture.repo.mlpipe(arguments: ["run"], env: fake.environment(fixture.environment), timeout: 180)
        #expect(result.status == 0, "\(result)")
        let calls = fake.lines("calls.txt")
        #expect(calls.count == 2, "\(calls)")
        let words = calls.first?.split(separator: " ").map(String.init) ?? []
        let config = try #require(words.firstIndex(of: "--kubeconfig").map { words[$0 + 1] })
        let folder = fixture.repo.root + "/workspace/runs/1/cluster/k8s"
        #expect(calls == [
            "--kubeconfig \(config) apply -f \(folder)",
            "--kubeconfig \(config) --namespace ml rollout status deployment/scaler --timeout=30s",
        ])
        #expect(fake.lines("modes.txt") == ["600", "600"])
        #expect(!FileManager.default.fileExists(atPath: config))
        #expect(!(result.stdout + result.stderr).contains(clusterToken))
        let listed = try fixture.deployments()
        #expect(listed.map { $0["state"] as? String } == ["applied"])
        #expect(listed.first?["target"] as? String == "kubernetes")
    }

    @Test("a failed rollout is undone and fails the stage with kubectl's words, its credentials masked")
    func failedRollout() throws {
        let fixture = try DeployRepo(pipeline: clusterPipeline(apply: true))
        let fake = try FakeKubectl()
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let result = try fixture.repo.mlpipe(arguments: ["run"], env: fake.environment(fixture.environment,
                                                                                      fail: "rollout status"),
                                             timeout: 180)
        #expect(result.status == 1, "\(result)")
        #expect(try fixture.repo.statuses()["cluster"] == "failed")
        let output = result.stdout + result.stderr
        #expect(output.contains("the rollout of deployment/scaler did not complete (error: deployment \"scaler\" "
                                + "exceeded its progress deadline |     token: ***); rolled back to the previous version "
                                + "with `kubectl rollout undo`"), "\(result)")
        #expect(!output.contains(clusterToken))
        let logs = try fixture.repo.mlpipe("logs", "latest", "cluster")
        #expect(logs.stdout.contains("token: ***") && !logs.stdout.contains(clusterToken), "\(logs)")
        #expect(fake.lines("calls.txt").last?.hasSuffix("--namespace ml rollout undo deployment/scaler") == true)
        #expect(try fixture.deployments().map { $0["state"] as? String } == ["failed"])
    }

    @Test("lint refuses a kubernetes target without CPU and memory limits at its line and column, with the fix")
    func lintsLimits() throws {
        let pipeline = clusterPipeline(resources: "          requests: { cpu: 250m, memory: 256Mi }")
        let fixture = try DeployRepo(pipeline: pipeline)
        let result = try fixture.repo.mlpipe("lint")
        #expect(result.status == 2, "\(result)")
        let lines = pipeline.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains("requests: { cpu: 250m") }) + 1
        #expect(result.errorLines.contains(
            "pipelines/scaler.yaml:\(line):11: error: with.kubernetes.resources: `limits` is required (a model without "
                + "limits can starve every other workload on its node); add `limits: { cpu: \"1\", memory: 1Gi }` with "
                + "what the model needs"), "\(result)")
    }
}
