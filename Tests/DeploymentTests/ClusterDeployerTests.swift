import Foundation
import TestSupport
import Testing
@testable import Deployment

/// A fake `kubectl` in a temporary folder: it appends each call's arguments to
/// `calls.txt`, and for the file after `--kubeconfig` its mode to `modes.txt` and its
/// content to `seen.txt`; a call whose arguments contain `failing` exits 1 after printing
/// `output`.
private struct FakeKubectl {
    let folder: URL
    var kubectl: String { folder.appendingPathComponent("kubectl").path }

    init(failing: String? = nil, output: String = "") throws {
        folder = try KubernetesFixtures.temporaryFolder()
        var script = """
            #!/bin/sh
            printf '%s\\n' "$*" >> '\(folder.path)/calls.txt'
            previous=
            for argument in "$@"; do
                if [ "$previous" = --kubeconfig ]; then
                    stat -c '%a' "$argument" >> '\(folder.path)/modes.txt'
                    cat "$argument" > '\(folder.path)/seen.txt'
                fi
                previous=$argument
            done

            """
        if let failing { script += "case \"$*\" in *'\(failing)'*) echo '\(output)'; exit 1;; esac\n" }
        script += "exit 0\n"
        try FakeTool.install(script, at: kubectl)
    }

    func lines(_ name: String) throws -> [String] {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n").map(String.init)
    }

    /// The kubeconfig path each call was given.
    func kubeconfigPaths() throws -> [String] {
        try lines("calls.txt").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            return words.firstIndex(of: "--kubeconfig").map { words[$0 + 1] }
        }
    }
}

@Suite("ClusterDeployer: render, record, apply")
struct ClusterDeployerTests {
    static let kubeconfig = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: s3cr3t-cluster-token\n"

    static func request(_ target: ClusterDeployRequest.Target, version: Int = 3, into folder: URL,
                        apply: ClusterApply? = nil) -> ClusterDeployRequest {
        ClusterDeployRequest(name: "iris", model: "iris", version: version, image: KubernetesFixtures.workload.image,
                             target: target, directory: folder.appendingPathComponent("run\(version)/manifests"),
                             apply: apply, runID: Int64(version), stage: "deploy-k8s")
    }

    static func kubernetes() throws -> ClusterDeployRequest.Target {
        .kubernetes(try #require(try KubernetesFixtures.settings(KubernetesFixtures.minimalText).kubernetes))
    }

    @Test("a rendered deployment is recorded `rendered` at the Service's cluster DNS name, its manifests on disk")
    func rendersAndRecords() async throws {
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let deployer = try ClusterDeployer(workspace: folder.path)
        let outcome = try await deployer.deploy(Self.request(try Self.kubernetes(), into: folder)) { _ in }

        #expect(outcome.rendering.serviceHost == "iris.default.svc.cluster.local")
        let expected = outcome.rendering.manifests.map {
            folder.appendingPathComponent("run3/manifests/" + $0.fileName).path
        }
        #expect(outcome.manifestPaths == expected)
        #expect(outcome.rendering.manifests.map(\.kind).contains("Deployment"))
        for (path, manifest) in zip(outcome.manifestPaths, outcome.rendering.manifests) {
            #expect(try String(contentsOfFile: path, encoding: .utf8) == manifest.text)
        }
        let records = try deployer.store.list()
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.state == "rendered" && record.target == "kubernetes" && record.modelVersion == "iris@3")
        #expect(record.endpoint.description == "http://iris.default.svc.cluster.local:8080")
        #expect(record.folder == folder.appendingPathComponent("run3/manifests").path)
        #expect(record.launch == nil && record.pid == 0 && record.stoppedAt == nil)
        #expect(try deployer.store.record(id: record.id) == record)
    }

    @Test("apply runs kubectl with a private kubeconfig that is gone afterwards; the next apply replaces it")
    func appliesAndReplaces() async throws {
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = try FakeKubectl()
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let deployer = try ClusterDeployer(workspace: folder.path)
        let apply = ClusterApply(kubeconfig: Self.kubeconfig, kubectl: fake.kubectl, timeoutSeconds: 42)
        let first = try await deployer.deploy(Self.request(try Self.kubernetes(), into: folder, apply: apply)) { _ in }

        let kubeconfig = try #require(try fake.kubeconfigPaths().first)
        let manifests = folder.appendingPathComponent("run3/manifests").path
        #expect(try fake.lines("calls.txt") == [
            "--kubeconfig \(kubeconfig) apply -f \(manifests)",
            "--kubeconfig \(kubeconfig) --namespace default rollout status deployment/iris --timeout=42s",
        ])
        #expect(try fake.lines("modes.txt") == ["600", "600"])
        #expect(try String(contentsOf: fake.folder.appendingPathComponent("seen.txt"), encoding: .utf8) == Self.kubeconfig)
        #expect(!FileManager.default.fileExists(atPath: kubeconfig))
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: kubeconfig).deletingLastPathComponent().path))
        #expect(first.record.status == .applied)

        let second = try await deployer.deploy(Self.request(try Self.kubernetes(), version: 4, into: folder,
                                                            apply: apply)) { _ in }
        let records = try deployer.store.list()
        #expect(records.map(\.state) == ["stopped", "applied"])
        #expect(second.record.replaces == first.record.id)
    }

    @Test("a rollout that fails is undone, recorded failed, and the error says so with kubectl's words")
    func failedRollout() async throws {
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = try FakeKubectl(failing: "rollout status", output: "error: deployment \"iris\" exceeded its progress deadline")
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let deployer = try ClusterDeployer(workspace: folder.path)
        let apply = ClusterApply(kubeconfig: Self.kubeconfig, kubectl: fake.kubectl, timeoutSeconds: 5)
        let error = await #expect(throws: DeploymentError.self) {
            try await deployer.deploy(Self.request(try Self.kubernetes(), into: folder, apply: apply)) { _ in }
        }
        #expect(error?.description == "the rollout of deployment/iris did not complete (error: deployment \"iris\" "
                + "exceeded its progress deadline); rolled back to the previous version with `kubectl rollout undo`")
        #expect(try fake.lines("calls.txt").last?.hasSuffix("--namespace default rollout undo deployment/iris") == true)
        #expect(try deployer.store.list().map(\.state) == ["failed"])
        let kubeconfig = try #require(try fake.kubeconfigPaths().first)
        #expect(!FileManager.default.fileExists(atPath: kubeconfig))
    }

    @Test("a Knative split sends the rest to the revision of the last applied version")
    func knativePreviousRevision() async throws {
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = try FakeKubectl()
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let deployer = try ClusterDeployer(workspace: folder.path)
        let apply = ClusterApply(kubeconfig: Self.kubeconfig, kubectl: fake.kubectl)
        let whole = try #require(try KubernetesFixtures.settings(KubernetesFixtures.minimalText).knative)
        let split = try #require(try KubernetesFixtures.settings("""
            knative:
              namespace: ml
              resources:
                requests: { cpu: 250m, memory: 256Mi }
                limits: { cpu: "1", memory: 512Mi }
              traffic: { percent: 10 }
            """).knative)
        var first = whole
        first.namespace = "ml"
        _ = try await deployer.deploy(Self.request(.knative(first), into: folder, apply: apply)) { _ in }
        let second = try await deployer.deploy(Self.request(.knative(split), version: 4, into: folder, apply: apply)) { _ in }

        let text = try #require(second.rendering.manifests.first?.text)
        #expect(text.contains("revisionName: iris-v4") && text.contains("revisionName: iris-v3"), "\(text)")
        #expect(second.record.endpoint.description == "http://iris.ml.svc.cluster.local:80")
        #expect(try fake.lines("calls.txt").last?.hasSuffix("wait --for=condition=Ready --timeout=300s ksvc/iris") == true)
        #expect(try deployer.store.list().map(\.state) == ["stopped", "applied"])
    }

    @Test("a Knative split with no earlier deployment says how to name the previous revision")
    func knativeWithoutPrevious() async throws {
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let split = try #require(try KubernetesFixtures.settings("""
            knative:
              resources:
                requests: { cpu: 250m, memory: 256Mi }
                limits: { cpu: "1", memory: 512Mi }
              traffic: { percent: 10 }
            """).knative)
        let deployer = try ClusterDeployer(workspace: folder.path)
        let error = await #expect(throws: DeploymentError.self) {
            try await deployer.deploy(Self.request(.knative(split), into: folder)) { _ in }
        }
        #expect(error?.description.contains("set `traffic.previous_revision`") == true)
        #expect(try deployer.store.list().isEmpty)
    }
}
