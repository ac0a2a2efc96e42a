import Foundation
import Testing

@Suite("kind: deploy, local target", .serialized)
struct DeployTests {
    @Test("a registered version deploys as a service on 127.0.0.1 that answers V2 inference, the alias moves, and a re-run leaves it alone")
    func deploysAndAnswers() throws {
        let fixture = try DeployRepo()
        defer { fixture.stopAll() }
        let result = try fixture.run(scale: "1")
        #expect(result.status == 0, "\(result)")
        let results = try #require(try fixture.repo.stages()["deploy"]?["results"] as? [String: Any])
        let endpoint = try #require(results["endpoint"] as? String)
        #expect(endpoint.hasPrefix("http://127.0.0.1:"))
        #expect(results["version"] as? Int == 1 && results["deployment"] as? Int == 1)
        #expect(try fixture.infer(endpoint) == [10, 10, 10])

        let listed = try fixture.deployments()
        #expect(listed.count == 1)
        #expect(listed.first?["state"] as? String == "candidate")
        #expect(listed.first?["endpoint"] as? String == endpoint)
        #expect(listed.first?["model"] as? String == "scaler" && listed.first?["version"] as? Int == 1)
        let history = try fixture.repo.mlpipe("models", "history", "scaler@production", "--json")
        let moves = try #require((try history.json() as? [String: Any])?["moves"] as? [[String: Any]])
        #expect(moves.map { $0["version"] as? Int } == [1])

        // Again, with nothing changed: the service that runs is left alone.
        let again = try fixture.run(scale: "1")
        #expect(again.status == 0, "\(again)")
        let second = try #require(try fixture.repo.stages()["deploy"]?["results"] as? [String: Any])
        #expect(second["endpoint"] as? String == endpoint && second["deployment"] as? Int == 1)
        #expect(try fixture.deployments().count == 1)
    }

    @Test("a version whose registering run's package folder is gone from this workspace fails deploy with the folder and what to do")
    func packageFolderGone() throws {
        let fixture = try DeployRepo()
        defer { fixture.stopAll() }
        let first = try fixture.run(scale: "1", ["--only", "register"])
        #expect(first.status == 0, "\(first)")
        // As on a machine that shares the run store but not run #1's workspace.
        try FileManager.default.removeItem(atPath: fixture.repo.path("workspace/runs/1"))
        let second = try fixture.run(scale: "1")
        #expect(second.status == 1, "\(second)")
        let deploy = try #require(try fixture.repo.stages()["deploy"])
        let error = try #require(deploy["error"] as? String, "\(deploy)")
        #expect(error.contains("run #1, which registered scaler@1, left its outputs in ") && error.contains("/workspace/runs/1/package/package,"),
                "\(error)")
        #expect(error.contains("which this workspace does not have") && error.contains("give its folder as `package:`"), "\(error)")
        #expect(try fixture.deployments().isEmpty)
    }

    @Test("lint reports a deploy setting it cannot use at its line and column, with what to write instead")
    func lintsSettings() throws {
        let pipeline = deployPipeline().replacingOccurrences(of: "      promote: production\n",
                                                             with: "      target: nomad\n      port: 70000\n")
        let fixture = try DeployRepo(pipeline: pipeline)
        let result = try fixture.repo.mlpipe("lint")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines == [
            "pipelines/scaler.yaml:19:15: error: with.target: 'nomad' is not a deploy target; use local, kubernetes or knative",
            "pipelines/scaler.yaml:20:13: error: with.port: 70000 is not a port; use 1 to 65535, or leave `port` out for a free one",
        ], "\(result)")
    }

    @Test("a model that never becomes ready fails deploy with the tail of its log, and is recorded failed")
    func neverReadyFails() throws {
        let fixture = try DeployRepo()
        defer { fixture.stopAll() }
        let result = try fixture.run(scale: "broken")
        #expect(result.status == 1, "\(result)")
        #expect(try fixture.repo.statuses()["deploy"] == "failed")
        #expect(result.stdout.contains("exited before it was ready") || result.stdout.contains("was not ready within"),
                "\(result)")
        #expect(result.stdout.contains("    | ") && result.stdout.contains("onnxruntime cannot load it"), "\(result)")
        let listed = try fixture.deployments()
        #expect(listed.map { $0["state"] as? String } == ["failed"])
        let pid = try #require(listed.first?["pid"] as? Int)
        #expect(!isAlive(pid_t(pid)))
    }

    @Test("a deployment whose process was killed shows as dead in `deployments list`")
    func killedShowsDead() throws {
        let fixture = try DeployRepo()
        defer { fixture.stopAll() }
        let result = try fixture.run(scale: "1")
        #expect(result.status == 0, "\(result)")
        let pid = pid_t(try #require(try fixture.deployments().first?["pid"] as? Int))
        #expect(isAlive(pid))
        kill(-pid, SIGKILL)
        try waitFor("the service to die") { !isAlive(pid) }
        #expect(try fixture.deployments().map { $0["state"] as? String } == ["dead"])
        let text = try fixture.repo.mlpipe("deployments")
        #expect(text.status == 0)
        #expect(text.lines.dropFirst().first?.contains(" dead ") == true, "\(text)")
    }
}
