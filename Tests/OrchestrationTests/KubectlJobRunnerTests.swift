import Foundation
import Orchestration
import Synchronization
import TestSupport
import Testing

/// No cluster runs here: a fake `kubectl` script records each call's arguments, one line
/// per call, and answers as the case needs.
@Suite("KubectlJobRunner: apply a Job, wait for it, fetch its logs")
struct KubectlJobRunnerTests {
    struct Fake {
        let folder: URL
        let kubectl: String
        let calls: URL

        /// A kubectl that exits with `status` for a command whose arguments contain the
        /// key, after printing `output`, and 0 otherwise.
        init(exits: [String: Int32], output: String = "job output") throws {
            folder = try OrchestrationFixtures.temporaryFolder()
            calls = folder.appendingPathComponent("calls.txt")
            kubectl = folder.appendingPathComponent("kubectl").path
            var script = "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '\(calls.path)'\n"
            for (key, status) in exits.sorted(by: { $0.key < $1.key }) {
                script += "case \"$*\" in *'\(key)'*) echo '\(output)'; exit \(status);; esac\n"
            }
            script += "case \"$*\" in *' logs '*) echo 'stage says hello';; esac\nexit 0\n"
            try FakeTool.install(script, at: kubectl)
        }

        func recorded() throws -> [String] {
            try String(contentsOf: calls, encoding: .utf8).split(separator: "\n").map(String.init)
        }
    }

    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("a Job that completes is applied, waited for (complete or failed) and its logs fetched")
    func completes() async throws {
        let fake = try Fake(exits: ["condition=Failed": 1])
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let log = Lines()
        let outcome = try await KubectlJobRunner(kubeconfig: "/k/config", executable: fake.kubectl, namespace: "ml")
            .run(manifest: "/out/job.yaml", job: "sweep-train-r1-abc", timeoutSeconds: 700, log: log.append)
        #expect(outcome == .complete)
        // The wait for Failed may be stopped before it starts once Complete is seen.
        let calls = try fake.recorded()
        #expect(calls.first == "--kubeconfig /k/config apply -f /out/job.yaml")
        #expect(calls.contains("--kubeconfig /k/config --namespace ml wait --for=condition=Complete --timeout=700s job/sweep-train-r1-abc"))
        #expect(calls.last == "--kubeconfig /k/config --namespace ml logs job/sweep-train-r1-abc --all-containers=true")
        #expect(log.all.contains("stage says hello\n"), "\(log.all)")
    }

    @Test("a Job that fails is reported failed, with its logs")
    func fails() async throws {
        let fake = try Fake(exits: ["condition=Complete": 1])
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let log = Lines()
        let outcome = try await KubectlJobRunner(kubeconfig: "/k", executable: fake.kubectl)
            .run(manifest: "/j.yaml", job: "j", timeoutSeconds: 5, log: log.append)
        #expect(outcome == .failed)
        #expect(log.all.contains("stage says hello\n"))
    }

    @Test("neither condition within the timeout is a time-out")
    func timesOut() async throws {
        let fake = try Fake(exits: ["wait": 1], output: "timed out waiting for the condition")
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        let outcome = try await KubectlJobRunner(kubeconfig: "/k", executable: fake.kubectl)
            .run(manifest: "/j.yaml", job: "j", timeoutSeconds: 5, log: { _ in })
        #expect(outcome == .timedOut)
    }

    @Test("a refused apply stops before any wait, with kubectl's last words")
    func refusedApply() async throws {
        let fake = try Fake(exits: ["apply": 1], output: "error: the server could not find the requested resource")
        defer { try? FileManager.default.removeItem(at: fake.folder) }
        await #expect(throws: OrchestrationError.kubectlFailed(command: "kubectl apply -f /j.yaml", status: 1,
                                                                outputTail: "error: the server could not find the requested resource")) {
            try await KubectlJobRunner(kubeconfig: "/k", executable: fake.kubectl)
                .run(manifest: "/j.yaml", job: "j", timeoutSeconds: 5, log: { _ in })
        }
        #expect(try fake.recorded() == ["--kubeconfig /k apply -f /j.yaml"])
    }
}
