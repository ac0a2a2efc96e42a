import Foundation
import Hummingbird
import PipelineEngine
import RunStore

/// The HTML pages: server-rendered, plain CSS, a few lines of JavaScript only where a log
/// follows a running stage. Each page has a JSON twin under `/api/v1/`.
struct Pages: Sendable {
    let state: ServerState

    func respond(_ request: Request, _ parts: RequestParts) async throws -> Response {
        let s = parts.segments
        switch s.count {
        case 0:
            return HTTPAnswer.html(try await runsPage(parts))
        case 1 where s[0] == "login":
            return HTTPAnswer.html(Self.loginPage(next: parts.parameter("next") ?? "/", failed: false))
        case 1 where s[0] == "compare":
            return HTTPAnswer.html(try await comparePage(parts))
        case 1 where s[0] == "metrics":
            return HTTPAnswer.html(try await pipelinesPage())
        case 2 where s[0] == "metrics":
            return HTTPAnswer.html(try await metricsPage(s[1], parts))
        case 1 where s[0] == "models":
            return HTTPAnswer.html(try await modelsPage())
        case 1 where s[0] == "triggers":
            return HTTPAnswer.html(try triggersPage(request, parts))
        case 2 where s[0] == "models":
            return HTTPAnswer.html(try await modelPage(s[1]))
        case 2 where s[0] == "runs":
            return HTTPAnswer.html(try await runPage(try APIRoutes(state: state).runID(s[1])))
        case 5 where s[0] == "runs" && s[2] == "stages" && s[4] == "log":
            let log = try await StageLog.find(state, run: try APIRoutes(state: state).runID(s[1]), stage: s[3])
            if parts.parameter("download") != nil { return try StageLog.download(log, attachment: true) }
            return HTTPAnswer.html(try logPage(log, search: parts.parameter("q")))
        default:
            throw HTTPAnswer.notFound("no page at /\(s.joined(separator: "/"))")
        }
    }

    /// `/`: the runs, newest first, 50 a page, filters in the URL, a cursor to the next.
    func runsPage(_ parts: RequestParts) async throws -> String {
        let query = try RunListQuery(parts)
        await state.sweepInterruptedRuns()
        let api = APIRoutes(state: state)
        let runs = try api.store { s throws(RunStoreError) in try s.runPage(query.store) }
        let pipelines = try api.store { s throws(RunStoreError) in try s.pipelineNames() }
        func options(_ names: [String], selected: String?) -> String {
            (["<option value=\"\">any</option>"] + names.map {
                "<option\($0 == selected ? " selected" : "")>\(HTML.escape($0))</option>"
            }).joined()
        }
        var body = "<h1>Runs</h1><form class=\"filters\" method=\"get\" action=\"/\">"
        body += "<label>pipeline <select name=\"pipeline\">\(options(pipelines, selected: query.store.pipeline))</select></label>"
        body += "<label>status <select name=\"status\">\(options(RunStatus.allCases.map(\.rawValue), selected: query.store.status?.rawValue))</select></label>"
        body += "<label>branch <input name=\"branch\" value=\"\(HTML.escape(query.store.branch ?? ""))\" size=\"12\"></label>"
        body += "<label>commit <input name=\"commit\" value=\"\(HTML.escape(query.store.commitPrefix ?? ""))\" size=\"10\" pattern=\"[0-9a-fA-F]{0,40}\"></label>"
        body += "<button>Filter</button> <a href=\"/\">clear</a></form>"
        if runs.isEmpty {
            body += "<p class=\"muted\">No runs match.</p>"
        } else {
            body += "<table><thead><tr><th>Run</th><th>Pipeline</th><th>Status</th><th>Commit</th><th>Branch</th><th>Trigger</th><th>Started (UTC)</th><th>Duration</th></tr></thead><tbody>"
            for run in runs {
                let id = run.id ?? 0
                let took = run.finishedAt.map { HTML.duration($0.timeIntervalSince(run.startedAt)) } ?? "-"
                let trigger = run.trigger.rawValue + (run.parentRun.map { " of #\($0)" } ?? "")
                body += "<tr><td>\(HTML.runLink(id))</td><td>\(HTML.escape(run.pipeline))</td><td>\(HTML.status(run.status.rawValue))</td>"
                    + "<td class=\"mono\">\(HTML.escape(String(run.commit.prefix(7))))\(run.dirty ? "*" : "")</td>"
                    + "<td>\(HTML.escape(run.branch ?? "-"))</td><td>\(HTML.escape(trigger))</td>"
                    + "<td>\(HTML.time(run.startedAt))</td><td>\(took)</td></tr>"
            }
            body += "</tbody></table>"
        }
        body += "<p class=\"pager\">"
        if query.store.before != nil { body += "<a href=\"/\(query.queryString(before: nil))\">« newest</a> " }
        if let next = query.nextCursor(runs) { body += "<a rel=\"next\" href=\"/\(query.queryString(before: next))\">older »</a>" }
        body += "</p>"
        return HTML.page(title: "Runs", body: body)
    }

    /// The form that turns a token into a login cookie.
    static func loginPage(next: String, failed: Bool) -> String {
        HTML.page(title: "Log in", body: """
            <h1>Log in</h1>
            \(failed ? "<p class=\"error\">That is not this server's token.</p>" : "")
            <form method="post" action="/login">
            <input type="hidden" name="next" value="\(HTML.escape(next))">
            <label>Token <input type="password" name="token" autofocus></label> <button>Log in</button>
            </form>
            <p class="muted">The token is the content of the file given to <code>mlpipe serve --token-file</code>.</p>
            """)
    }
}
