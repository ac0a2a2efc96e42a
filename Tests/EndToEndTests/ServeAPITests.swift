import Foundation
import Testing

@Suite("mlpipe serve: the JSON API")
struct ServeAPITests {
    @Test("GET /api/v1/runs answers the bytes of runs --json, and /api/v1/runs/ID those of runs show --json")
    func sameObjectsAsTheCLI() throws {
        let repo = try servedHistory()
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        #expect(try server.get("/api/v1/runs") == repo.mlpipe("runs", "--json", "--limit", "50").stdout)
        for run in ["1", "2"] {
            #expect(try server.get("/api/v1/runs/\(run)") == repo.mlpipe("runs", "show", run, "--json").stdout)
        }
        #expect(try server.get("/api/v1/compare?a=1&b=2") == repo.mlpipe("runs", "diff", "1", "2", "--json").stdout)
        let missing = try server.request("/api/v1/runs/9")
        #expect(missing.status == 404, "\(missing)")
        #expect(missing.body == "{\"error\":\"no run #9; `mlpipe runs` lists the recorded runs\"}\n", "\(missing)")
    }

    @Test("a stage recorded by another machine into the same run names its host on the run's page and in the API")
    func stageHosts() throws {
        let repo = try basicRepo()
        for (stage, host) in [("prepare", "runner-a"), ("train", "runner-b")] {
            let played = try repo.mlpipe("run", "--only", stage, env: ["MLPIPE_RUN_KEY": "played-1", "MLPIPE_HOST": host])
            #expect(played.status == 0, "\(played)")
        }
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        let page = try server.get("/runs/1")
        #expect(page.contains("<dt>host</dt><dd>runner-b</dd>"), "train ran on runner-b: \(page)")
        #expect(!page.contains("<dt>host</dt><dd>runner-a</dd>"), "prepare ran on the run's own host, which the page names once")
        let details = try #require(try JSONSerialization.jsonObject(with: Data(server.get("/api/v1/runs/1").utf8)) as? [String: Any])
        let stages = try #require(details["stages"] as? [[String: Any]])
        let hosts = Dictionary(uniqueKeysWithValues: stages.map { ($0["name"] as? String ?? "", $0["host"] as? String ?? "none") })
        #expect(details["host"] as? String == "runner-a" && hosts["prepare"] == "runner-a" && hosts["train"] == "runner-b",
                "\(details)")
    }

    @Test("the runs list pages by cursor, 50 a page unless asked, and filters by pipeline, status, branch and commit")
    func pagingAndFilters() throws {
        let repo = try servedHistory()
        try repo.git("checkout", "-q", "-b", "topic")
        try repo.write("scripts/train.sh", "echo fixed\n")
        try repo.commit("fix train")
        #expect(try repo.mlpipe("run").status == 0)
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }

        var ids: [Int] = []
        var next: String? = "/api/v1/runs?limit=2"
        while let path = next {
            let reply = try server.request(path)
            #expect(reply.status == 200, "\(reply)")
            ids += try runIDs(reply.body)
            next = reply.header("Link").flatMap { link in
                link.hasPrefix("<") ? String(link.dropFirst().prefix { $0 != ">" }) : nil
            }
        }
        #expect(ids == [3, 2, 1], "every run once, newest first, across pages")
        #expect(try runIDs(server.get("/api/v1/runs?status=failed")) == [2])
        #expect(try runIDs(server.get("/api/v1/runs?branch=topic")) == [3])
        #expect(try runIDs(server.get("/api/v1/runs?pipeline=demo&before=3")) == [2, 1])
        let commit = try repo.git("rev-parse", "HEAD~1").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try runIDs(server.get("/api/v1/runs?commit=\(commit.prefix(8).uppercased())")) == [2])
        let bad = try server.request("/api/v1/runs?status=sleeping")
        #expect(bad.status == 400, "\(bad)")
        #expect(bad.body.contains("unknown status 'sleeping'; use one of running, succeeded, failed, cancelled, interrupted"), "\(bad)")
        #expect(try server.request("/api/v1/runs?commit=xyz").status == 400)
    }

    @Test("URL paths with .., absolute and percent-encoded variants never open a file outside the workspace")
    func noPathEscapes() throws {
        let repo = try servedHistory()
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        let attempts = [
            "/../../../../etc/passwd",
            "/runs/1/stages/../../../../etc/passwd/log",
            "/api/v1/runs/1/stages/..%2F..%2F..%2F..%2Fetc%2Fpasswd/log",
            "/api/v1/runs/1/stages/" + String(repeating: "..%2F", count: 16) + "etc%2Fpasswd/log",
            "/runs/1/stages/" + String(repeating: "%2e%2e%2f", count: 16) + "etc%2fpasswd/log?download=1",
            "/api/v1/runs/1/stages/%2e%2e/log",
            "/api/v1/runs/1/stages/%2Fetc%2Fpasswd/log",
            "/api/v1/runs/1/stages//etc/passwd/log",
            "/runs/1/stages/%252e%252e%252fetc%252fpasswd/log",
            "/api/v1/runs/1/stages/..%5C..%5Cetc%5Cpasswd/log",
            "/api/v1/runs/1/stages/prepare%00/log",
            "/api/v1/runs/..%2F1/stages/prepare/log",
            "/etc/passwd",
            "/api/v1/models/..%2F..%2Fmlpipe.db",
        ]
        for path in attempts {
            let reply = try server.request(path)
            #expect([400, 404].contains(reply.status), "\(path): \(reply)")
            #expect(!reply.body.contains("root:"), "\(path) served /etc/passwd: \(reply)")
        }
        // The real log, through the same route, is served.
        #expect(try server.get("/api/v1/runs/2/stages/train/log") == "training broke\n")
    }

    @Test("docs/openapi.yaml describes every answer of the running server (schemathesis)")
    func openAPIConformance() throws {
        guard let venv = ProcessInfo.processInfo.environment["MLPIPE_VENV"] else {
            Issue.record("MLPIPE_VENV is not set; it names the Python venv that holds schemathesis (requirements.txt)")
            return
        }
        let repo = try servedHistory()
        // With a secret, so that the hooks answer as they do in use (401 for the unsigned
        // deliveries schemathesis makes) rather than 404.
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": "conformance-secret"])
        defer { _ = try? server.stop() }
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml").path
        let result = try runProcess(venv + "/bin/schemathesis",
                                    ["run", spec, "--url", server.url, "--checks", "all", "--max-examples", "25",
                                     "--seed", "1", "--no-color"],
                                    in: repo.root, env: ["SCHEMATHESIS_HOOKS": ""], timeout: 600)
        #expect(result.status == 0, "\(result.stdout.suffix(6000))")
    }

    func runIDs(_ body: String) throws -> [Int] {
        let runs = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]] ?? []
        return runs.compactMap { $0["id"] as? Int }
    }
}
