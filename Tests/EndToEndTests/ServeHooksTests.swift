import Foundation
import Testing

@Suite("mlpipe serve: runs triggered by git pushes")
struct ServeHooksTests {
    @Test("a signed GitHub push that touches a pipeline's input runs it once with trigger webhook; one that touches nothing runs nothing")
    func signedPushRunsWhatItTouched() throws {
        let repo = try basicRepo()
        let secret = "hook-secret-\(UUID().uuidString.prefix(12))"
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": secret])
        defer { _ = try? server.stop() }
        #expect(server.output.contains("webhooks take pushes at \(server.url)/hooks/github"), "\(server.output)")

        let first = try repo.head()
        try repo.write("data/input.txt", "one\ntwo\nthree\n")
        try repo.commit("more data")
        let second = try repo.head()
        let push = gitHubPush(branch: "main", before: first, after: second)
        let reply = try server.post("/hooks/github", body: push, headers: try gitHubHeaders(push, secret: secret, delivery: "d-1"))
        #expect(reply.status == 202, "\(reply)")
        #expect(jsonObject(reply)["status"] as? String == "queued", "\(reply)")
        #expect(jsonObject(reply)["triggers"] as? [Int] == [1], "\(reply)")

        var rows = try server.settledTriggers(atLeast: 2)
        var runs = try repo.runObjects()
        #expect(runs.count == 1, "\(runs)")
        let run = try #require(runs.first)
        #expect(run["trigger"] as? String == "webhook")
        #expect(run["commit"] as? String == second)
        #expect(run["branch"] as? String == "main")
        #expect(run["status"] as? String == "succeeded", "\(run)")
        #expect(run["pipeline"] as? String == "demo")
        #expect(rows.map { $0["state"] as? String } == ["done", "done"], "\(rows)")
        #expect(rows[1]["pipeline"] as? String == "demo" && rows[1]["pushId"] as? Int == 1 && rows[1]["runId"] as? Int == run["id"] as? Int,
                "\(rows)")
        #expect(try repo.stages("\(run["id"] as? Int ?? 0)")["prepare"]?["status"] as? String == "succeeded")
        let worktrees = (try? FileManager.default.contentsOfDirectory(atPath: repo.path("workspace/worktrees"))) ?? []
        #expect(worktrees.isEmpty, "the clone a push ran in is removed: \(worktrees)")

        // Only notes.txt changes: no pipeline reads it.
        try repo.write("notes.txt", "still unrelated\n")
        try repo.commit("notes")
        let third = try repo.head()
        let quiet = gitHubPush(branch: "main", before: second, after: third)
        let quietReply = try server.post("/hooks/github", body: quiet, headers: try gitHubHeaders(quiet, secret: secret, delivery: "d-2"))
        #expect(quietReply.status == 202, "\(quietReply)")
        rows = try server.settledTriggers(atLeast: 3)
        #expect(rows.count == 3, "\(rows)")
        #expect((rows[2]["note"] as? String)?.contains("touched no pipeline") == true, "\(rows[2])")
        runs = try repo.runObjects()
        #expect(runs.count == 1, "a push that touches nothing runs nothing: \(runs)")

        // GitHub re-sends a delivery that timed out: the same delivery id queues nothing new.
        let again = try server.post("/hooks/github", body: push, headers: try gitHubHeaders(push, secret: secret, delivery: "d-1"))
        #expect(again.status == 202 && jsonObject(again)["status"] as? String == "duplicate", "\(again)")
        #expect(jsonObject(again)["triggers"] as? [Int] == [1], "\(again)")
        #expect(try server.settledTriggers(atLeast: 3).count == 3)
        #expect(try repo.runObjects().count == 1)

        let outcome = try server.stop()
        #expect(outcome.stdout.contains("trigger #2: run #1 of demo on main at \(second.prefix(7)) succeeded"), "\(outcome)")
        #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret), "the secret is never printed: \(outcome)")
    }

    @Test("a wrong or missing signature is 401 and queues nothing; ping, other events, deleted branches and bad bodies run nothing")
    func refusedAndIgnoredDeliveries() throws {
        let repo = try basicRepo()
        let secret = "right-secret"
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": secret])
        defer { _ = try? server.stop() }
        let head = try repo.head()
        let push = gitHubPush(branch: "main", before: String(repeating: "0", count: 40), after: head)

        let wrong = try server.post("/hooks/github", body: push, headers: try gitHubHeaders(push, secret: "wrong-secret", delivery: "w-1"))
        #expect(wrong.status == 401, "\(wrong)")
        #expect(wrong.body.contains("X-Hub-Signature-256") && !wrong.body.contains(secret), "\(wrong)")
        let unsigned = try server.post("/hooks/github", body: push, headers: ["X-GitHub-Event: push", "X-GitHub-Delivery: w-2"])
        #expect(unsigned.status == 401, "\(unsigned)")
        // Signed for one body, sent with another.
        let tampered = try server.post("/hooks/github", body: push + " ", headers: try gitHubHeaders(push, secret: secret, delivery: "w-3"))
        #expect(tampered.status == 401, "\(tampered)")
        #expect(try server.triggers().isEmpty, "a refused delivery queues nothing")

        let ping = "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}"
        let pong = try server.post("/hooks/github", body: ping, headers: try gitHubHeaders(ping, secret: secret, event: "ping", delivery: "p-1"))
        #expect(pong.status == 200 && jsonObject(pong)["status"] as? String == "pong", "\(pong)")
        let issue = try server.post("/hooks/github", body: push, headers: try gitHubHeaders(push, secret: secret, event: "issues", delivery: "i-1"))
        #expect(issue.status == 202 && jsonObject(issue)["status"] as? String == "ignored", "\(issue)")
        let deletion = gitHubPush(branch: "old", before: head, after: String(repeating: "0", count: 40))
        let deleted = try server.post("/hooks/github", body: deletion, headers: try gitHubHeaders(deletion, secret: secret, delivery: "x-1"))
        #expect(deleted.status == 202 && (jsonObject(deleted)["reason"] as? String)?.contains("deleted") == true, "\(deleted)")
        let junk = "{\"ref\": 42"
        let bad = try server.post("/hooks/github", body: junk, headers: try gitHubHeaders(junk, secret: secret, delivery: "b-1"))
        #expect(bad.status == 400, "\(bad)")
        let noCommit = "{\"ref\":\"refs/heads/main\",\"after\":\"not-a-commit\"}"
        let badCommit = try server.post("/hooks/github", body: noCommit, headers: try gitHubHeaders(noCommit, secret: secret, delivery: "b-2"))
        #expect(badCommit.status == 400 && badCommit.body.contains("after"), "\(badCommit)")
        #expect(try server.request("/hooks/github").status == 405)
        #expect(try server.triggers().isEmpty, "nothing above queues a push")

        // A commit that the served repository lacks and cannot fetch (it has no origin).
        let missing = String(repeating: "ab", count: 20)
        let lost = gitHubPush(branch: "main", before: head, after: missing)
        let lostReply = try server.post("/hooks/github", body: lost, headers: try gitHubHeaders(lost, secret: secret, delivery: "m-1"))
        #expect(lostReply.status == 202, "\(lostReply)")
        let rows = try server.settledTriggers(atLeast: 1)
        #expect(rows.count == 1 && rows[0]["state"] as? String == "failed", "\(rows)")
        let error = rows.first?["error"] as? String ?? ""
        #expect(error.contains("commit \(missing) not found") && error.contains("git fetch origin"), "\(error)")
        #expect(try repo.runObjects().isEmpty)
    }

    @Test("without a webhook secret the hooks answer 404")
    func noSecretNoHooks() throws {
        let repo = try basicRepo()
        // Empty counts as none: a server nobody gave a secret takes no pushes.
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": ""])
        defer { _ = try? server.stop() }
        let head = try repo.head()
        let push = gitHubPush(branch: "main", before: String(repeating: "0", count: 40), after: head)
        let github = try server.post("/hooks/github", body: push, headers: try gitHubHeaders(push, secret: "any", delivery: "n-1"))
        #expect(github.status == 404 && github.body.contains("webhooks are off"), "\(github)")
        let gitlab = try server.post("/hooks/gitlab", body: push, headers: ["X-Gitlab-Event: Push Hook", "X-Gitlab-Token: "])
        #expect(gitlab.status == 404, "\(gitlab)")
        #expect(try server.triggers().isEmpty)
        #expect(!server.output.contains("webhooks take pushes"))
    }

    @Test("a GitLab push with the secret token runs the pipeline, whose stages cannot see the secret; a wrong token is 401")
    func gitLabToken() throws {
        let pipeline = """
            version: 1
            name: look
            stages:
              look:
                run: (printenv MLPIPE_WEBHOOK_SECRET || echo "no secret here") | tee ${{ outputs.seen }}
                inputs: [data.txt]
                outputs: { seen: seen.txt }

            """
        let repo = try TempRepo(files: ["pipelines/look.yaml": pipeline, "data.txt": "1\n"])
        let secret = "gitlab-token-\(UUID().uuidString.prefix(12))"
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": secret])
        defer { _ = try? server.stop() }
        let first = try repo.head()
        try repo.write("data.txt", "2\n")
        try repo.commit("two")
        let second = try repo.head()
        let push = gitLabPush(branch: "main", before: first, after: second)

        let wrong = try server.post("/hooks/gitlab", body: push, headers: ["X-Gitlab-Event: Push Hook", "X-Gitlab-Token: \(secret)x"])
        #expect(wrong.status == 401, "\(wrong)")
        #expect(try server.triggers().isEmpty)
        let reply = try server.post("/hooks/gitlab", body: push, headers: [
            "X-Gitlab-Event: Push Hook", "X-Gitlab-Token: \(secret)", "X-Gitlab-Event-UUID: 6f1c-1",
        ])
        #expect(reply.status == 202, "\(reply)")
        let rows = try server.settledTriggers(atLeast: 2)
        #expect(rows.first?["source"] as? String == "gitlab", "\(rows)")
        let runs = try repo.runObjects()
        #expect(runs.count == 1 && runs.first?["trigger"] as? String == "webhook" && runs.first?["commit"] as? String == second, "\(runs)")
        let log = try repo.mlpipe("logs", "\(runs.first?["id"] as? Int ?? 0)", "look")
        #expect(log.status == 0 && log.stdout.contains("no secret here") && !log.stdout.contains(secret), "\(log)")
    }
}
