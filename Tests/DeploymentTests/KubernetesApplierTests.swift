import Foundation
import TestSupport
import Testing
@testable import Deployment

/// No cluster runs here: a fake `kubectl` script in the test's folder records each call's
/// arguments, one line per call, and answers as the case needs.
@Suite("KubectlApplier: apply, wait for the rollout, undo a failed one")
struct KubernetesApplierTests {
    struct Fake {
        let folder: URL
        let kubectl: String
        let calls: URL

        /// A kubectl that exits with `status` for a command whose arguments contain the key
        /// (`"rollout status"`), and 0 otherwise.
        init(exits: [String: Int32], output: String = "") throws {
            folder = try KubernetesFixtures.temporaryFolder()
            calls = folder.appendingPathComponent("calls.txt")
            kubectl = folder.appendingPathComponent("kubectl").path
            var script = "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '\(calls.path)'\n"
            for (key, status) in exits.sorted(by: { $0.key < $1.key }) {
                script += "case \"$*\" in *'\(key)'*) echo '\(output)'; exit \(status);; esac\n"
            }
            script += "exit 0\n"
            try FakeTool.install(script, at: kubectl)
        }

        func recorded() throws -> [String] {
            try String(contentsOf: calls, encoding: .utf8).split(separator: "\n").map(String.init)
        }
    }

    static func rendering(_ resource: String = "deployment/iris") -> KubernetesRendering {
        KubernetesRendering(manifests: [], serviceHost: "iris.ml.svc.cluster.local",
                            endpoint: ServiceEndpoint(scheme: "http", host: "iris.ml.svc.cluster.local", port: 8080),
                            namespace: "ml", rolloutResource: resource, revisionName: nil)
    }

    @Test("a good rollout is applied and watched, and nothing is undone")
    func success() async throws {
        let fake = try Fake(exits: [:])
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let applier = KubectlApplier(kubeconfig: "/secrets/kubeconfig", executable: fake.kubectl, timeoutSeconds: 120)
        try await applier.apply(URL(fileURLWithPath: "/out/k8s"), rendering: Self.rendering())
        #expect(try fake.recorded() == [
            "--kubeconfig /secrets/kubeconfig apply -f /out/k8s",
            "--kubeconfig /secrets/kubeconfig --namespace ml rollout status deployment/iris --timeout=120s",
        ])
    }

    @Test("a rollout that does not finish is undone, and the error says so with kubectl's last words")
    func undo() async throws {
        let fake = try Fake(exits: ["rollout status": 1],
                            output: "error: deployment \"iris\" exceeded its progress deadline")
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let applier = KubectlApplier(kubeconfig: "/secrets/kubeconfig", executable: fake.kubectl, timeoutSeconds: 60)
        await #expect(throws: KubernetesError.rolloutFailed(
            resource: "deployment/iris", outputTail: "error: deployment \"iris\" exceeded its progress deadline",
            undone: true, undoOutputTail: nil)) {
            try await applier.apply(URL(fileURLWithPath: "/out/k8s"), rendering: Self.rendering())
        }
        #expect(try fake.recorded() == [
            "--kubeconfig /secrets/kubeconfig apply -f /out/k8s",
            "--kubeconfig /secrets/kubeconfig --namespace ml rollout status deployment/iris --timeout=60s",
            "--kubeconfig /secrets/kubeconfig --namespace ml rollout undo deployment/iris",
        ])
    }

    @Test("a failed apply stops before the rollout; a failed undo is reported as not undone")
    func failures() async throws {
        let refused = try Fake(exits: ["apply": 1], output: "error: unable to recognize")
        defer { try? FileManager.default.removeItem(at: refused.folder) }
        await #expect(throws: KubernetesError.kubectlFailed(command: "kubectl apply -f /out/k8s", status: 1,
                                                            outputTail: "error: unable to recognize")) {
            try await KubectlApplier(kubeconfig: "/k", executable: refused.kubectl)
                .apply(URL(fileURLWithPath: "/out/k8s"), rendering: Self.rendering())
        }
        #expect(try refused.recorded() == ["--kubeconfig /k apply -f /out/k8s"])

        let stuck = try Fake(exits: ["rollout": 1], output: "boom")
        defer { try? FileManager.default.removeItem(at: stuck.folder) }
        await #expect(throws: KubernetesError.rolloutFailed(resource: "deployment/iris", outputTail: "boom",
                                                            undone: false, undoOutputTail: "boom")) {
            try await KubectlApplier(kubeconfig: "/k", executable: stuck.kubectl)
                .apply(URL(fileURLWithPath: "/out/k8s"), rendering: Self.rendering())
        }
        #expect(try stuck.recorded().count == 3)
    }

    @Test("a Knative Service is waited for with kubectl wait, and never undone")
    func knative() async throws {
        let fake = try Fake(exits: ["wait": 1], output: "timed out waiting for the condition")
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        await #expect(throws: KubernetesError.knativeNotReady(resource: "ksvc/iris",
                                                              outputTail: "timed out waiting for the condition")) {
            try await KubectlApplier(kubeconfig: "/k", executable: fake.kubectl, timeoutSeconds: 30)
                .apply(URL(fileURLWithPath: "/out/kn"), rendering: Self.rendering("ksvc/iris"))
        }
        #expect(try fake.recorded() == [
            "--kubeconfig /k apply -f /out/kn",
            "--kubeconfig /k --namespace ml wait --for=condition=Ready --timeout=30s ksvc/iris",
        ])
    }
}
