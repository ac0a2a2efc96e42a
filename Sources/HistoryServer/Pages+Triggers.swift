import Foundation
import Hummingbird
import RunStore

/// The triggers page (`/triggers`): the pushes the webhooks queued, newest first, each
/// with the pipelines it asked for and the runs they made. Its JSON twin is
/// `GET /api/v1/triggers`.
extension Pages {
    /// One page of pushes (50 unless `limit` says otherwise; `before` is the cursor, as
    /// on the runs page). With no push at all it says how to set up a webhook. The first
    /// page reloads itself while a push is queued or running.
    func triggersPage(_ request: Request, _ parts: RequestParts) throws -> String {
        let (before, limit) = try APIRoutes.triggerCursor(parts)
        let pushes = try APIRoutes(state: state).store { s throws(RunStoreError) in
            try TriggerPush.page(s, before: before, limit: limit)
        }
        // The address the browser used: the one a webhook on another machine would use too,
        // unless a proxy stands in front (then its own address, which only the operator knows).
        let base = "http://" + (request.head.authority ?? "HOST:PORT")
        var body = "<h1>Triggers</h1>"
        if let worker = state.triggers {
            body += "<p class=\"muted\">Pushes to the repository at <code>\(HTML.escape(worker.planner.repositoryRoot))</code>, "
                + "received at <code>\(HTML.escape(base))/hooks/github</code> and <code>\(HTML.escape(base))/hooks/gitlab</code>; "
                + "newest first.</p>"
        }
        if pushes.isEmpty {
            body += before == nil ? setUpWebhooks(base: base) : "<p class=\"muted\">No older pushes.</p>"
        } else {
            body += "<table class=\"triggers\"><thead><tr><th>Push</th><th>Provider</th><th>Delivery</th><th>Branch</th>"
                + "<th>Commit</th><th>Pipelines</th><th>Status</th><th>Attempts</th><th>Received (UTC)</th>"
                + "<th>Started</th><th>Finished</th><th>Runs</th></tr></thead><tbody>"
            for push in pushes { body += row(push) }
            body += "</tbody></table>"
        }
        body += "<p class=\"pager\">"
        let size = limit == RunListQuery.pageSize ? nil : String(limit)
        if before != nil { body += "<a href=\"/triggers\(HTML.query([("limit", size)]))\">« newest</a> " }
        if pushes.count == limit, let last = pushes.last?.push.id {
            body += "<a rel=\"next\" href=\"/triggers\(HTML.query([("limit", size), ("before", String(last))]))\">older »</a>"
        }
        body += "</p><p><a href=\"/api/v1/triggers\">JSON</a></p>"
        let live = before == nil && pushes.contains(where: \.isLive)
        return HTML.page(title: "Triggers", body: body, script: live ? "setTimeout(function(){location.reload()},3000);" : "")
    }

    /// One push: a row of its fields, and below it what happened (its note) and why a
    /// row failed (the errors), when there is any.
    func row(_ push: TriggerPush) -> String {
        let record = push.push
        let id = record.id ?? 0
        var pipelines = push.pipelines.map { row in
            var item = "\(HTML.escape(row.pipeline ?? "")) \(HTML.status(row.state.rawValue))"
            if row.attempts > 1 { item += " <span class=\"muted\">attempt \(row.attempts)</span>" }
            return item
        }.joined(separator: "<br>")
        if pipelines.isEmpty { pipelines = record.state == .done ? "<span class=\"muted\">none</span>" : "-" }
        let runs = push.runs.map(HTML.runLink).joined(separator: " ")
        var out = "<tr id=\"push-\(id)\"><td>#\(id)</td><td>\(HTML.escape(record.source.rawValue))</td>"
            + "<td class=\"mono\">\(HTML.escape(record.deliveryID))</td><td>\(HTML.escape(record.branch))</td>"
            + "<td class=\"mono\" title=\"\(HTML.escape(record.commit))\">\(HTML.escape(String(record.commit.prefix(7))))</td>"
            + "<td>\(pipelines)</td><td>\(HTML.status(push.state.rawValue))</td><td>\(record.attempts)</td>"
            + "<td>\(HTML.time(record.createdAt))</td><td>\(HTML.time(record.startedAt))</td>"
            + "<td>\(HTML.time(push.finishedAt))</td><td>\(runs.isEmpty ? "-" : runs)</td></tr>"
        var details: [String] = []
        if let note = record.note { details.append("<span class=\"muted\">\(HTML.escape(note))</span>") }
        if let error = record.error { details.append("<span class=\"error\">\(HTML.escape(error))</span>") }
        for row in push.pipelines {
            if let error = row.error {
                details.append("<span class=\"error\">\(HTML.escape(row.pipeline ?? "")): \(HTML.escape(error))</span>")
            }
        }
        if !details.isEmpty {
            out += "<tr class=\"detail\"><td></td><td colspan=\"11\">\(details.joined(separator: "<br>"))</td></tr>"
        }
        return out
    }

    /// What the page says before the first push: how to give GitHub or GitLab this
    /// server's hook, and (when they are off) how to turn the hooks on.
    func setUpWebhooks(base: String) -> String {
        var out = "<div class=\"empty\"><p>No pushes yet.</p>"
        if state.triggers == nil {
            out += "<p>The webhooks are off: they need a shared secret. Start the server with one, in a file or in the "
                + "environment:</p><pre>openssl rand -hex 32 &gt; ~/.mlpipe-webhook-secret\n"
                + "mlpipe serve --webhook-secret-file ~/.mlpipe-webhook-secret\n"
                + "# or: MLPIPE_WEBHOOK_SECRET=… mlpipe serve</pre>"
        }
        let secret = state.triggers == nil ? "that secret"
            : "the secret this server was started with (the content of <code>--webhook-secret-file</code>, "
              + "or <code>MLPIPE_WEBHOOK_SECRET</code>)"
        let github = HTML.escape(base) + "/hooks/github", gitlab = HTML.escape(base) + "/hooks/gitlab"
        out += "<p>Then add a webhook to the repository, and each push to a branch runs the pipelines it touched:</p><ul>"
            + "<li><b>GitHub</b>: Settings → Webhooks → Add webhook; payload URL <code>\(github)</code>, content type "
            + "<code>application/json</code>, \(secret) as its secret, “Just the push event”.</li>"
            + "<li><b>GitLab</b>: Settings → Webhooks; URL <code>\(gitlab)</code>, \(secret) as its secret token, "
            + "trigger “Push events”.</li></ul>"
            + "<p class=\"muted\">GitHub and GitLab must be able to reach that address: a server on 127.0.0.1 is reachable "
            + "only from this machine; serve on another address with <code>--token-file</code> (the hooks do not need the "
            + "token: their signature is their credential).</p></div>"
        return out
    }
}
