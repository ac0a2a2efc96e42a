import Foundation
import Testing

@Suite("mlpipe serve: re-run and cancel through the JSON API")
struct ServeAPIActionsTests {
    @Test("POST /api/v1/runs/ID/rerun answers 202 with a new run of trigger web, which GET /api/v1/runs lists")
    func rerunThroughTheAPI() throws {
        let repo = try servedHistory()
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }

        let reply = try server.request("/api/v1/runs/2/rerun", method: "POST")
        #expect(reply.status == 202, "\(reply)")
        #expect(reply.header("Location") == "/api/v1/runs/3", "\(reply)")
        let run = jsonObject(reply)
        #expect(run["id"] as? Int == 3 && run["trigger"] as? String == "web" && run["parentRun"] as? Int == 2, "\(reply)")
        try waitFor("run #3 to finish", timeout: 60) { (try? repo.show("3")["finishedAt"] as? String) != nil }
        let listed = try JSONSerialization.jsonObject(with: Data(try server.get("/api/v1/runs").utf8)) as? [[String: Any]] ?? []
        #expect(listed.first?["id"] as? Int == 3 && listed.first?["trigger"] as? String == "web", "\(listed)")
        #expect(try repo.stages("3")["prepare"]?["status"] as? String == "cached", "what succeeded is reused")

        let from = try server.post("/api/v1/runs/1/rerun", body: "{\"from\": \"evaluate\"}", headers: ["Content-Type: application/json"])
        #expect(from.status == 202 && jsonObject(from)["id"] as? Int == 4, "\(from)")
        try waitFor("run #4 to finish", timeout: 60) { (try? repo.show("4")["finishedAt"] as? String) != nil }
        #expect(try repo.stages("4")["evaluate"]?["status"] as? String == "succeeded")
        #expect(try repo.stages("4")["train"]?["status"] as? String == "cached")

        let succeeded = try server.request("/api/v1/runs/1/rerun", method: "POST")
        #expect(succeeded.status == 409, "\(succeeded)")
        #expect((jsonObject(succeeded)["error"] as? String)?.contains("name a stage") == true, "\(succeeded)")
        let unknown = try server.request("/api/v1/runs/9/rerun", method: "POST")
        #expect(unknown.status == 404 && jsonObject(unknown)["error"] as? String == "no run #9; `mlpipe runs` lists the recorded runs",
                "\(unknown)")
        let typo = try server.post("/api/v1/runs/2/rerun", body: "{\"from\":\"trian\"}", headers: ["Content-Type: application/json"])
        #expect(typo.status == 404 && (jsonObject(typo)["error"] as? String)?.contains("did you mean 'train'?") == true, "\(typo)")
        let badBody = try server.post("/api/v1/runs/2/rerun", body: "{\"from\": 3}", headers: ["Content-Type: application/json"])
        #expect(badBody.status == 400 && (jsonObject(badBody)["error"] as? String)?.contains("{\"from\": \"STAGE\"}") == true, "\(badBody)")
        let get = try server.request("/api/v1/runs/2/rerun")
        #expect(get.status == 405 && get.header("Allow") == "POST", "\(get)")
        #expect(try repo.runObjects().count == 4, "none of the refused requests started a run")
    }

    @Test("a POST another site's page could send is refused with 403 and starts nothing")
    func foreignPostsRefused() throws {
        let repo = try servedHistory()
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        let origin = try server.request("/api/v1/runs/2/rerun", method: "POST", headers: ["Origin: http://evil.example"])
        #expect(origin.status == 403 && (jsonObject(origin)["error"] as? String)?.contains("another site") == true, "\(origin)")
        // A form needs no Origin check to be refused: its content type gives it away.
        let form = try server.request("/api/v1/runs/2/rerun", method: "POST", form: ["from": "train"])
        #expect(form.status == 403 && (jsonObject(form)["error"] as? String)?.contains("application/json") == true, "\(form)")
        let sameOrigin = try server.request("/api/v1/runs/2/rerun", method: "POST", headers: ["Origin: \(server.url)"])
        #expect(sameOrigin.status == 202, "this server's own pages may post: \(sameOrigin)")
        try waitFor("run #3 to finish", timeout: 60) { (try? repo.show("3")["finishedAt"] as? String) != nil }
        #expect(try repo.runObjects().count == 3, "only the same-origin post started a run")
    }

    @Test("POST /api/v1/runs/ID/cancel stops a running run, recorded cancelled; a finished run is 409")
    func cancelThroughTheAPI() throws {
        let slow = try SlowRun()
        defer { withExtendedLifetime(slow) {} }  // it ends the run and its stage when it goes
        let repo = slow.repo, run = slow.run
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }

        let reply = try server.request("/api/v1/runs/1/cancel", method: "POST")
        #expect(reply.status == 202 && jsonObject(reply)["id"] as? Int == 1, "\(reply)")
        let outcome = try run.finish(timeout: 30)
        #expect(outcome.status == 130, "\(outcome)")
        #expect(try repo.show("1")["status"] as? String == "cancelled")
        let again = try server.request("/api/v1/runs/1/cancel", method: "POST")
        #expect(again.status == 409 && (jsonObject(again)["error"] as? String)?.contains("not running") == true, "\(again)")
        #expect(try server.request("/api/v1/runs/7/cancel", method: "POST").status == 404)
    }

    @Test("with --token-file the API's POSTs need the bearer token: 401 without it or with a wrong one")
    func tokenGuardsTheActions() throws {
        let repo = try servedHistory()
        try repo.write("token.txt", "api-token-value\n")
        let server = try ServeProcess(repo, arguments: ["--host", "0.0.0.0", "--token-file", repo.path("token.txt")])
        defer { _ = try? server.stop() }
        let none = try server.request("/api/v1/runs/2/rerun", method: "POST")
        #expect(none.status == 401 && none.header("WWW-Authenticate") == "Bearer realm=\"mlpipe\"", "\(none)")
        #expect((jsonObject(none)["error"] as? String)?.contains("Authorization: Bearer") == true, "\(none)")
        let wrong = try server.request("/api/v1/runs/2/cancel", method: "POST", headers: ["Authorization: Bearer nope"])
        #expect(wrong.status == 401, "\(wrong)")
        #expect(try repo.runObjects().count == 2, "nothing started without the token")
        // With the token, a client need not say what it posts: no page of another site can send that header.
        let right = try server.post("/api/v1/runs/2/rerun", body: "{\"from\":\"train\"}", headers: ["Authorization: Bearer api-token-value"])
        #expect(right.status == 202 && jsonObject(right)["id"] as? Int == 3, "\(right)")
        try waitFor("run #3 to finish", timeout: 60) { (try? repo.show("3")["finishedAt"] as? String) != nil }
    }
}
