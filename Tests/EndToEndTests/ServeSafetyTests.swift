import Foundation
import Testing

@Suite("mlpipe serve: who may come in, and answering while runs write or die")
struct ServeSafetyTests {
    @Test("serving any address but loopback without --token-file or --insecure-no-auth refuses to start")
    func refusesOpenAddress() throws {
        let repo = try servedHistory()
        let result = try repo.mlpipe("serve", "--host", "0.0.0.0", "--port", "0", timeout: 30)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("mlpipe: error: refusing to serve the run history on 0.0.0.0 without authentication"), "\(result)")
        #expect(result.stderr.contains("--token-file"), "\(result)")
    }

    @Test("with --token-file the API needs the bearer token and the pages a login")
    func tokenGuardsEverything() throws {
        let repo = try servedHistory()
        try repo.write("token.txt", "s3cret-token-value\n")
        let server = try ServeProcess(repo, arguments: ["--host", "0.0.0.0", "--token-file", repo.path("token.txt")])
        defer { _ = try? server.stop() }
        let denied = try server.request("/api/v1/runs")
        #expect(denied.status == 401, "\(denied)")
        #expect(try server.request("/api/v1/runs", headers: ["Authorization: Bearer wrong"]).status == 401)
        #expect(try server.request("/api/v1/runs", headers: ["Authorization: Bearer s3cret-token-value"]).status == 200)

        let page = try server.request("/runs/2")
        #expect(page.status == 303 && page.header("Location") == "/login?next=%2Fruns%2F2", "\(page)")
        let wrong = try server.request("/login", method: "POST", form: ["token": "nope", "next": "/runs/2"])
        #expect(wrong.status == 401, "\(wrong)")
        let login = try server.request("/login", method: "POST", form: ["token": "s3cret-token-value", "next": "/runs/2"])
        #expect(login.status == 303 && login.header("Location") == "/runs/2", "\(login)")
        let cookie = try #require(login.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
        #expect(!cookie.contains("s3cret"), "the cookie holds a value derived from the token, not the token")
        let runPage = try server.request("/runs/2", headers: ["Cookie: \(cookie)"])
        #expect(runPage.status == 200 && runPage.body.contains("Run #2"), "\(runPage)")
    }

    @Test("a re-run or cancel posted without the page's CSRF token is refused and starts nothing")
    func csrfRequired() throws {
        let repo = try servedHistory()
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        let forged = try server.request("/runs/2/rerun", method: "POST", form: ["csrf": "guess"])
        #expect(forged.status == 403, "\(forged)")
        let none = try server.request("/runs/2/rerun", method: "POST", form: [:])
        #expect(none.status == 403, "\(none)")
        #expect(try repo.mlpipe("runs", "--json").json() as? [Any] != nil)
        #expect((try repo.mlpipe("runs", "--json").json() as? [Any])?.count == 2, "no run was started")
    }

    @Test("the server keeps answering while a run writes, and shows a run whose process was killed as interrupted")
    func killedRunShowsInterrupted() throws {
        let pipeline = """
            version: 1
            name: slow
            stages:
              wait:
                run: echo $$ > "$MAIN"; echo started; touch "$READY"; exec sleep 60

            """
        let repo = try TempRepo(files: ["pipelines/slow.yaml": pipeline])
        let ready = repo.path("ready")
        let run = try startProcess(mlpipeBinary, ["run"], in: repo.root, env: ["READY": ready, "MAIN": repo.path("main")])
        defer { if run.isRunning { kill(run.pid, SIGKILL) } }
        try waitFor("the stage to start") { FileManager.default.fileExists(atPath: ready) }
        let stage = try readPid(repo.path("main"))
        defer { endSurvivors([stage]) }
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        #expect(try server.get("/api/v1/runs/1").contains("\"status\":\"running\""))
        #expect(try server.get("/").contains("s-running"))

        kill(run.pid, SIGKILL)
        _ = try run.finish(timeout: 10)
        var status = ""
        try waitFor("the killed run to show as interrupted", timeout: 20) {
            let object = try JSONSerialization.jsonObject(with: Data(try server.get("/api/v1/runs/1").utf8)) as? [String: Any]
            status = object?["status"] as? String ?? ""
            return status == "interrupted"
        }
        #expect(status == "interrupted")
        #expect(try server.get("/runs/1").contains("s-interrupted"))
    }
}
