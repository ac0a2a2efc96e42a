import Foundation
import Testing

@Suite("mlpipe serve: the trigger queue survives the server")
struct ServeHooksRestartTests {
    @Test("triggers queued and running when serve is killed run after it starts again, in push order")
    func queueSurvivesKill() throws {
        // The stage waits for a gate file, so that the first push's run is still running,
        // and the second push queued behind it, when the server is killed.
        let pipeline = """
            version: 1
            name: gated
            stages:
              wait:
                run: echo $$ > "$PIDS/$(cat data.txt)"; while [ ! -e "$GATE" ]; do sleep 0.05; done; cat data.txt > ${{ outputs.out }}
                inputs: [data.txt]
                outputs: { out: out.txt }

            """
        let repo = try TempRepo(files: ["pipelines/gated.yaml": pipeline, "data.txt": "0\n"])
        try FileManager.default.createDirectory(atPath: repo.path("pids"), withIntermediateDirectories: true)
        try repo.write("secret.txt", "restart-secret\n")
        try repo.write(".gitignore", "pids/\ngate\nsecret.txt\n")
        try repo.commit("ignore test files")
        let environment = ["PIDS": repo.path("pids"), "GATE": repo.path("gate")]
        let arguments = ["--webhook-secret-file", repo.path("secret.txt")]
        var server = try ServeProcess(repo, arguments: arguments, env: environment)
        defer { _ = try? server.stop() }

        var commits = [try repo.head()]
        func push(_ content: String, delivery: String) throws {
            try repo.write("data.txt", content + "\n")
            try repo.commit("data \(content)")
            commits.append(try repo.head())
            let body = gitHubPush(branch: "main", before: commits[commits.count - 2], after: commits[commits.count - 1])
            let reply = try server.post("/hooks/github", body: body,
                                        headers: try gitHubHeaders(body, secret: "restart-secret", delivery: delivery))
            #expect(reply.status == 202, "\(reply)")
        }
        try push("1", delivery: "r-1")
        try waitFor("the first push's stage to start", timeout: 120) {
            FileManager.default.fileExists(atPath: repo.path("pids/1"))
        }
        let orphan = try readPid(repo.path("pids/1"))
        defer { endSurvivors([orphan]) }
        try push("2", delivery: "r-2")
        try waitFor("the second push's pipeline row to wait behind the first", timeout: 60) {
            try server.triggers().contains { $0["pipeline"] as? String == "gated" && $0["state"] as? String == "queued" }
        }

        kill(server.child.pid, SIGKILL)
        _ = try server.stop()
        // The stage outlives the killed server (its own process group); this test started it.
        endSurvivors([orphan])
        #expect(FileManager.default.createFile(atPath: repo.path("gate"), contents: nil))

        server = try ServeProcess(repo, arguments: arguments, env: environment)
        let rows = try server.settledTriggers(atLeast: 4)
        #expect(server.output.contains("trigger #2 was running when the server stopped: queued again"), "\(server.output)")
        let pipelineRows = rows.filter { $0["pipeline"] as? String == "gated" }
        #expect(pipelineRows.map { $0["state"] as? String } == ["done", "done"], "\(rows)")
        #expect(pipelineRows.map { $0["commit"] as? String } == [commits[1], commits[2]], "\(rows)")

        let runs = try repo.runObjects()
        let described = runs.map { "\($0["commit"] as? String ?? "?") \($0["status"] as? String ?? "?") \($0["trigger"] as? String ?? "?")" }
        #expect(described == [
            "\(commits[1]) interrupted webhook",
            "\(commits[1]) succeeded webhook",
            "\(commits[2]) succeeded webhook",
        ], "\(runs)")
    }
}
