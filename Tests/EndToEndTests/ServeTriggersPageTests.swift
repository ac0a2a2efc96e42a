import Foundation
import Testing

@Suite("mlpipe serve: the triggers page")
struct ServeTriggersPageTests {
    @Test("the triggers page shows a push running with its run's link, the next one queued behind it, then both done")
    func queuedAndRunningPushes() throws {
        let pipeline = """
            version: 1
            name: gate
            stages:
              wait:
                run: while [ ! -e "$GO" ]; do sleep 0.05; done; cat data.txt > ${{ outputs.copy }}
                inputs: [data.txt]
                outputs: { copy: copy.txt }

            """
        let repo = try TempRepo(files: ["pipelines/gate.yaml": pipeline, "data.txt": "1\n"])
        let secret = "page-secret-\(UUID().uuidString.prefix(8))"
        let go = repo.path("go")
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": secret, "GO": go])
        defer { _ = try? server.stop() }
        #expect(try server.get("/").contains("<a href=\"/triggers\">Triggers</a>"), "every page links the triggers page")

        let first = try repo.head()
        try repo.write("data.txt", "2\n")
        try repo.commit("two")
        let second = try repo.head()
        try repo.write("data.txt", "3\n")
        try repo.commit("three")
        let third = try repo.head()
        let one = gitHubPush(branch: "main", before: first, after: second)
        let two = gitHubPush(branch: "main", before: second, after: third)
        #expect(try server.post("/hooks/github", body: one, headers: try gitHubHeaders(one, secret: secret, delivery: "gh-one")).status == 202)
        // Push #1 is #1, its pipeline row #2 (made when it is planned); wait for that
        // before the second push, so that the ids are known.
        try waitFor("the first push's run to start", timeout: 60) {
            try server.triggers().contains { $0["id"] as? Int == 2 && $0["runId"] is Int }
        }
        #expect(try server.post("/hooks/github", body: two, headers: try gitHubHeaders(two, secret: secret, delivery: "gh-two")).status == 202)
        try waitFor("the second push to be planned, its run queued behind the first", timeout: 60) {
            try server.triggers().contains { $0["id"] as? Int == 4 && $0["state"] as? String == "queued" }
        }

        var page = try server.get("/triggers")
        let running = pushRow(page, 1)
        #expect(running.contains("github") && running.contains("gh-one") && running.contains(">main<"), "\(running)")
        #expect(running.contains(">\(second.prefix(7))<") && running.contains("gate"), "\(running)")
        #expect(running.contains("status s-running\">running"), "\(running)")
        #expect(running.contains("<a href=\"/runs/1\">#1</a>"), "the run it started, as a link: \(running)")
        let queued = pushRow(page, 3)
        #expect(queued.contains("gh-two") && queued.contains(">\(third.prefix(7))<"), "\(queued)")
        #expect(queued.contains("status s-queued\">queued"), "\(queued)")
        #expect(try #require(page.range(of: "id=\"push-3\"")).lowerBound < #require(page.range(of: "id=\"push-1\"")).lowerBound,
                "newest first")
        #expect(page.contains("location.reload()"), "the page follows pushes still to run")

        FileManager.default.createFile(atPath: go, contents: nil)
        _ = try server.settledTriggers(atLeast: 4)
        page = try server.get("/triggers")
        #expect(pushRow(page, 1).contains("status s-done\">done") && pushRow(page, 1).contains("<a href=\"/runs/1\">#1</a>"), "\(page)")
        #expect(pushRow(page, 3).contains("status s-done\">done") && pushRow(page, 3).contains("<a href=\"/runs/2\">#2</a>"), "\(page)")
        #expect(!page.contains("location.reload()"))
        #expect(try server.get("/runs/2").contains("Run #2"), "the link leads to the run's page")
    }

    @Test("a failed push shows its error; the page holds 50 pushes unless asked, older ones a link away")
    func failedPushesAndPaging() throws {
        let repo = try basicRepo()
        let secret = "page-secret"
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": secret])
        defer { _ = try? server.stop() }
        let empty = try server.get("/triggers")
        #expect(empty.contains("No pushes yet"), "\(empty)")
        #expect(empty.contains("\(server.url)/hooks/github") && empty.contains("\(server.url)/hooks/gitlab"), "\(empty)")
        #expect(empty.contains("MLPIPE_WEBHOOK_SECRET") && empty.contains("--webhook-secret-file"), "where the secret comes from: \(empty)")

        // Commits the served repository lacks and cannot fetch (it has no origin).
        let head = try repo.head()
        let missing = ["ab", "cd", "ef"].map { String(repeating: $0, count: 20) }
        for (index, commit) in missing.enumerated() {
            // A branch name the page must escape.
            let push = gitHubPush(branch: "fix<\(index)>", before: head, after: commit)
            let reply = try server.post("/hooks/github", body: push, headers: try gitHubHeaders(push, secret: secret, delivery: "m-\(index)"))
            #expect(reply.status == 202, "\(reply)")
        }
        _ = try server.settledTriggers(atLeast: 3)

        let page = try server.get("/triggers?limit=2")
        let newest = pushRow(page, 3)
        #expect(newest.contains("status s-failed\">failed"), "\(newest)")
        #expect(newest.contains("commit \(missing[2]) not found") && newest.contains("git fetch origin"), "its error: \(newest)")
        #expect(newest.contains(">fix&lt;2&gt;<") && !page.contains("fix<2>"), "escaped: \(newest)")
        #expect(page.contains("id=\"push-2\"") && !page.contains("id=\"push-1\""), "two pushes a page: \(page)")
        #expect(page.contains("<a rel=\"next\" href=\"/triggers?limit=2&amp;before=2\">") || page.contains("<a rel=\"next\" href=\"/triggers?limit=2&before=2\">"),
                "\(page)")
        let older = try server.get("/triggers?limit=2&before=2")
        #expect(pushRow(older, 1).contains("commit \(missing[0]) not found"), "\(older)")
        #expect(!older.contains("id=\"push-2\"") && !older.contains("rel=\"next\""), "\(older)")
        #expect(try server.request("/triggers?before=x").status == 400)
    }

    @Test("with the webhooks off the triggers page says how to turn them on")
    func webhooksOff() throws {
        let repo = try basicRepo()
        let server = try ServeProcess(repo, env: ["MLPIPE_WEBHOOK_SECRET": ""])
        defer { _ = try? server.stop() }
        let page = try server.get("/triggers")
        #expect(page.contains("No pushes yet") && page.contains("webhooks are off"), "\(page)")
        #expect(page.contains("mlpipe serve --webhook-secret-file") && page.contains("MLPIPE_WEBHOOK_SECRET"), "\(page)")
        #expect(page.contains("\(server.url)/hooks/github"), "\(page)")
    }

    /// The table row of push `id` and the detail row under it.
    func pushRow(_ page: String, _ id: Int) -> String {
        guard let start = page.range(of: "<tr id=\"push-\(id)\">") else { return "" }
        let rest = page[start.lowerBound...]
        let end = rest.dropFirst(1).range(of: "<tr id=\"push-")?.lowerBound ?? rest.range(of: "</tbody>")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }
}
