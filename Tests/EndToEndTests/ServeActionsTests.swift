import Foundation
import Testing

@Suite("mlpipe serve: re-run, cancel and live logs")
struct ServeActionsTests {
    @Test("re-run from the page records a run with trigger web, linked to the run it re-ran, reusing what succeeded")
    func rerunFromThePage() throws {
        let repo = try servedHistory()
        try repo.write("scripts/train.sh", "echo fixed\n")
        try repo.commit("fix train")
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        let page = try server.get("/runs/2")
        let reply = try server.request("/runs/2/rerun", method: "POST", form: ["csrf": try csrfToken(in: page)])
        #expect(reply.status == 303 && reply.header("Location") == "/runs/3", "\(reply)")
        try waitFor("run #3 to finish", timeout: 60) {
            (try? repo.show("3")["finishedAt"] as? String) != nil
        }
        let run = try repo.show("3")
        #expect(run["trigger"] as? String == "web")
        #expect(run["parentRun"] as? Int == 2)
        // Re-run at #2's commit, where train still fails; prepare comes from #1.
        let stages = try repo.stages("3")
        #expect(stages["prepare"]?["status"] as? String == "cached")
        #expect(stages["train"]?["status"] as? String == "failed")

        let from = try server.request("/runs/1/rerun", method: "POST", form: ["csrf": try csrfToken(in: page), "from": "evaluate"])
        #expect(from.status == 303 && from.header("Location") == "/runs/4", "\(from)")
        try waitFor("run #4 to finish", timeout: 60) { (try? repo.show("4")["finishedAt"] as? String) != nil }
        let forced = try repo.stages("4")
        #expect(forced["evaluate"]?["status"] as? String == "succeeded", "\(forced)")
        #expect(forced["train"]?["status"] as? String == "cached", "\(forced)")
        let unknown = try server.request("/runs/1/rerun", method: "POST", form: ["csrf": try csrfToken(in: page), "from": "trian"])
        #expect(unknown.status == 400 && unknown.body.contains("did you mean &#39;train&#39;?"), "\(unknown)")
    }

    @Test("cancel on the page stops a running run, which is recorded cancelled")
    func cancelARun() throws {
        let slow = try SlowRun()
        defer { withExtendedLifetime(slow) {} }  // it ends the run and its stage when it goes
        let repo = slow.repo, run = slow.run
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        let page = try server.get("/runs/1")
        #expect(page.contains("Cancel run"))
        let reply = try server.request("/runs/1/cancel", method: "POST", form: ["csrf": try csrfToken(in: page)])
        #expect(reply.status == 303, "\(reply)")
        let outcome = try run.finish(timeout: 30)
        #expect(outcome.status == 130, "\(outcome)")
        #expect(try repo.show("1")["status"] as? String == "cancelled")
        let again = try server.request("/runs/1/cancel", method: "POST", form: ["csrf": try csrfToken(in: page)])
        #expect(again.status == 409 && again.body.contains("not running"), "\(again)")
    }

    @Test("a running stage's log is followed live over Server-Sent Events, and ends with the stage's status")
    func liveLogGrows() throws {
        let pipeline = """
            version: 1
            name: slow
            stages:
              talk:
                run: for i in 1 2 3; do echo "line $i"; while [ ! -e "$GO.$i" ]; do sleep 0.05; done; done

            """
        let repo = try TempRepo(files: ["pipelines/slow.yaml": pipeline])
        let go = repo.path("go")
        let run = try startProcess(mlpipeBinary, ["run"], in: repo.root, env: ["GO": go])
        defer { if run.isRunning { kill(run.pid, SIGKILL) } }
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        try waitFor("the stage to run") { (try? server.get("/api/v1/runs/1").contains("\"status\":\"running\"")) == true }

        let stream = FileManager.default.temporaryDirectory.appendingPathComponent("sse-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: stream, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: stream) }
        let follower = try Child("/usr/bin/curl", ["-s", "-N", "--max-time", "60", server.url + "/api/v1/runs/1/stages/talk/log/events"],
                                 in: "/", stdoutTo: stream)
        defer { if follower.isRunning { kill(follower.pid, SIGKILL) } }
        func seen() -> String { (try? String(contentsOfFile: stream, encoding: .utf8)) ?? "" }

        try waitFor("line 1 while the stage runs") { seen().contains("data: line 1\n") }
        #expect(!seen().contains("line 2"))
        FileManager.default.createFile(atPath: go + ".1", contents: nil)
        try waitFor("line 2, streamed as the stage writes it") { seen().contains("data: line 2\n") }
        #expect(!seen().contains("event: end"), "the stream stays open while the stage runs: \(seen())")
        FileManager.default.createFile(atPath: go + ".2", contents: nil)
        FileManager.default.createFile(atPath: go + ".3", contents: nil)
        let outcome = try follower.finish(timeout: 30)
        #expect(outcome.status == 0)
        #expect(seen().contains("data: line 3\n"))
        #expect(seen().hasSuffix("event: end\ndata: succeeded\n\n"), "\(seen())")
        #expect(try run.finish(timeout: 30).status == 0)
    }
}
