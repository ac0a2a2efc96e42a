import Foundation
import PipelineEngine
import PipelineSpec
import RunStore

/// The run page (its DAG and each stage's details) and the log page.
extension Pages {
    func runPage(_ id: Int64) async throws -> String {
        let details = try await APIRoutes(state: state).details(String(id))
        let run = details.run
        var body = "<h1>Run #\(id) · \(HTML.escape(run.pipeline)) \(HTML.status(run.status.rawValue))</h1><dl>"
        body += "<dt>commit</dt><dd class=\"mono\">\(HTML.escape(run.commit))\(run.dirty ? " (dirty)" : "")</dd>"
        body += "<dt>branch</dt><dd>\(HTML.escape(run.branch ?? "-"))</dd>"
        body += "<dt>file</dt><dd class=\"mono\">\(HTML.escape(run.pipelineFile)) \(HTML.escape(run.pipelineDigest))</dd>"
        body += "<dt>started</dt><dd>\(HTML.time(run.startedAt)) UTC"
            + (run.finishedAt.map { ", took \(HTML.duration($0.timeIntervalSince(run.startedAt)))" } ?? "") + "</dd>"
        body += "<dt>trigger</dt><dd>\(HTML.escape(run.trigger.rawValue))"
            + (run.parentRun.map { ", re-run of \(HTML.runLink($0))" } ?? "") + " on \(HTML.escape(run.host)), mlpipe \(HTML.escape(run.version))</dd>"
        body += "<dt>params</dt><dd class=\"mono\">\(HTML.escape(run.paramsJSON))</dd>"
        if let pruned = run.prunedAt {
            body += "<dt>folder</dt><dd>pruned \(HTML.time(pruned)) UTC: its outputs and logs are gone, the record stays</dd>"
        }
        body += "</dl>" + actions(run, stages: details.stages)
        body += "<h2>Stages</h2>" + DAGDrawing(stages: details.stages, needs: needs(of: run), runID: id).svg
        for stage in details.stages {
            body += stageSection(stage, run: run, outputs: details.outputs(of: stage.name))
        }
        body += "<p><a href=\"/api/v1/runs/\(id)\">JSON</a> · <a href=\"/compare\(HTML.query([("a", run.parentRun.map(String.init)), ("b", String(id))]))\">compare</a></p>"
        let live = run.status == .running
        return HTML.page(title: "Run #\(id)", body: body, script: live ? "setTimeout(function(){location.reload()},3000);" : "")
    }

    /// What each stage depends on (`needs:` and `${{ stages.… }}`), from the pipeline file recorded with the run; none when
    /// the file no longer parses (a kind since removed): the stages are then drawn in
    /// one column.
    func needs(of run: RunRecord) -> [String: [String]] {
        guard let pipeline = try? PipelineLoader.parse(source: run.pipelineSource, file: run.pipelineFile,
                                                        kinds: state.kindSchemas, secretProviders: state.secretProviderNames)
        else { return [:] }
        return Dictionary(pipeline.stages.map { ($0.name, $0.dependencies) }, uniquingKeysWith: { first, _ in first })
    }

    /// The buttons: re-run a run that did not succeed, re-run from a stage, cancel a
    /// running run. Each a POST with the CSRF token.
    func actions(_ run: RunRecord, stages: [StageRecord]) -> String {
        let id = run.id ?? 0
        let csrf = "<input type=\"hidden\" name=\"csrf\" value=\"\(state.access.csrfToken)\">"
        var out = "<div class=\"actions\">"
        if run.status == .running {
            out += "<form method=\"post\" action=\"/runs/\(id)/cancel\">\(csrf)<button>Cancel run</button></form>"
        } else {
            if run.status != .succeeded {
                out += "<form method=\"post\" action=\"/runs/\(id)/rerun\" style=\"display:inline\">\(csrf)<button>Re-run</button></form> "
            }
            let names = stages.map { "<option>\(HTML.escape($0.name))</option>" }.joined()
            out += "<form method=\"post\" action=\"/runs/\(id)/rerun\" style=\"display:inline\">\(csrf)"
                + "<button>Re-run from</button> <select name=\"from\">\(names)</select></form>"
        }
        return out + "</div>"
    }

    func stageSection(_ stage: StageRecord, run: RunRecord, outputs: [OutputRecord]) -> String {
        let id = run.id ?? 0
        var out = "<section class=\"stage\" id=\"stage-\(HTML.escape(HTML.percent(stage.name)))\">"
        out += "<h2>\(HTML.escape(stage.name)) \(HTML.status(stage.status.rawValue))</h2><dl>"
        out += "<dt>kind</dt><dd>\(HTML.escape(stage.kind))</dd>"
        // A stage played on another machine (a pod of an exported workflow) says where.
        if let host = stage.host, host != run.host { out += "<dt>host</dt><dd>\(HTML.escape(host))</dd>" }
        if let from = stage.cachedFrom, from != id { out += "<dt>cached from</dt><dd>\(HTML.runLink(from))</dd>" }
        out += "<dt>attempts</dt><dd>\(stage.attempts)</dd>"
        if let start = stage.startedAt, let end = stage.finishedAt, stage.status != .cached {
            out += "<dt>took</dt><dd>\(HTML.duration(end.timeIntervalSince(start)))</dd>"
        }
        if let code = stage.exitCode { out += "<dt>exit code</dt><dd>\(code)</dd>" }
        if let reason = stage.reason { out += "<dt>why it ran</dt><dd>\(HTML.escape(reason))</dd>" }
        if let error = stage.error { out += "<dt>error</dt><dd class=\"error\">\(HTML.escape(error))</dd>" }
        for warning in HistoryJSON.strings(stage.warningsJSON) { out += "<dt>warning</dt><dd>\(HTML.escape(warning))</dd>" }
        if let key = stage.cacheKey { out += "<dt>cache key</dt><dd class=\"mono\">\(HTML.escape(key))</dd>" }
        if case .object(let fields) = HistoryJSON.parse(stage.keyComponentsJSON) {
            out += "<dt>key fields</dt><dd><table>"
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                out += "<tr><th>\(HTML.escape(name))</th><td class=\"mono\">\(HTML.escape(value.canonicalJSON()))</td></tr>"
            }
            out += "</table></dd>"
        }
        if let metrics = stage.metricsJSON { out += "<dt>metrics</dt><dd class=\"mono\">\(HTML.escape(metrics))</dd>" }
        if let results = stage.resultsJSON { out += "<dt>results</dt><dd class=\"mono\">\(HTML.escape(results))</dd>" }
        out += "</dl>"
        if !outputs.isEmpty {
            out += "<table><thead><tr><th>Output</th><th>Digest</th><th>Size</th><th>Path</th></tr></thead><tbody>"
            for output in outputs {
                out += "<tr><td>\(HTML.escape(output.name))</td><td class=\"mono\">\(HTML.escape(output.digest))</td>"
                    + "<td>\(HTML.size(output.size))</td><td class=\"mono\">\(HTML.escape(output.path))</td></tr>"
            }
            out += "</tbody></table>"
        }
        if stage.logPath != nil || stage.cachedFrom != nil || stage.status == .running || stage.status == .pending {
            let base = "/runs/\(id)/stages/\(HTML.percent(stage.name))/log"
            out += "<p><a href=\"\(base)\">log</a> · <a href=\"\(base)?download=1\">download</a></p>"
        }
        return out + "</section>"
    }

    /// A stage's log: searchable (`?q=`, matching lines marked), downloadable, and
    /// followed live through `/api/v1/…/log/events` while the stage runs.
    func logPage(_ log: StageLog, search: String?) throws -> String {
        let name = HTML.escape(log.stage.name)
        var body = "<h1>Log of \(name) in \(HTML.runLink(log.run)) \(HTML.status(log.stage.status.rawValue))</h1>"
        if let madeBy = log.madeBy {
            body += "<p class=\"muted\">This stage was cached; this is the log of \(HTML.runLink(madeBy)), which made its result.</p>"
        }
        body += "<form class=\"filters\" method=\"get\"><input name=\"q\" value=\"\(HTML.escape(search ?? ""))\" placeholder=\"search\"> <button>Search</button>"
            + " <a href=\"?download=1\">download</a></form>"
        let data = FileManager.default.contents(atPath: log.path) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        if let search {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .filter { $0.element.localizedCaseInsensitiveContains(search) }
            body += "<p>\(lines.count) matching line\(lines.count == 1 ? "" : "s")</p><pre id=\"log\">"
            for (number, line) in lines {
                let marked = HTML.escape(String(line)).replacingOccurrences(of: HTML.escape(search), with: "<mark>\(HTML.escape(search))</mark>", options: .caseInsensitive)
                body += "<span class=\"muted\">\(number + 1):</span> \(marked)\n"
            }
            return HTML.page(title: "Log of \(log.stage.name)", body: body + "</pre>")
        }
        body += "<pre id=\"log\">\(HTML.escape(text))</pre>"
        let live = log.stage.status == .running || log.stage.status == .pending
        guard live else { return HTML.page(title: "Log of \(log.stage.name)", body: body) }
        body += "<p id=\"live\" class=\"muted\">following the log while the stage runs…</p>"
        let events = "/api/v1/runs/\(log.run)/stages/\(HTML.percent(log.stage.name))/log/events?offset=\(data.count)"
        let script = """
            var pre=document.getElementById('log'),live=document.getElementById('live');
            var source=new EventSource('\(events)');
            source.addEventListener('log',function(e){pre.appendChild(document.createTextNode(e.data+'\\n'));window.scrollTo(0,document.body.scrollHeight);});
            source.addEventListener('end',function(e){live.textContent='stage '+e.data;source.close();});
            """
        return HTML.page(title: "Log of \(log.stage.name)", body: body, script: script)
    }
}
