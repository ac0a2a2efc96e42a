import Foundation
import ModelRegistry
import PipelineEngine
import RunStore

/// Compare two runs; metric charts per pipeline; models with aliases and their history.
extension Pages {
    /// `/compare?a=41&b=42`: what `runs diff` prints, side by side. Only what differs,
    /// with a toggle that also shows the stages and params that are the same.
    func comparePage(_ parts: RequestParts) async throws -> String {
        let a = try parts.runID("a"), b = try parts.runID("b")
        var body = "<h1>Compare runs</h1><form class=\"filters\" method=\"get\" action=\"/compare\">"
            + "<label>run A <input name=\"a\" value=\"\(a.map(String.init) ?? "")\" size=\"6\"></label>"
            + "<label>run B <input name=\"b\" value=\"\(b.map(String.init) ?? "")\" size=\"6\"></label> <button>Compare</button></form>"
        guard let a, let b else { return HTML.page(title: "Compare", body: body + "<p class=\"muted\">Give two run numbers.</p>") }
        let api = APIRoutes(state: state)
        let comparison = try await api.history { h throws(EngineError) in try await h.compare(String(a), String(b)) }
        let left = try await api.details(String(a)), right = try await api.details(String(b))
        body += "<p><label><input type=\"checkbox\" id=\"all\" onchange=\"document.body.classList.toggle('all',this.checked)\"> show what is the same too</label>"
            + " · <a href=\"/api/v1/compare?a=\(a)&amp;b=\(b)\">JSON</a></p>"
        body += "<table><thead><tr><th>What</th><th>Name</th><th>\(HTML.runLink(a)) \(HTML.status(comparison.a.status.rawValue))</th>"
            + "<th>\(HTML.runLink(b)) \(HTML.status(comparison.b.status.rawValue))</th><th>Δ</th></tr></thead><tbody>"
        if comparison.differences.isEmpty {
            body += "<tr><td colspan=\"5\">no differences</td></tr>"
        }
        for d in comparison.differences {
            body += "<tr class=\"differs\"><td>\(HTML.escape(d.category))</td><td>\(HTML.escape(d.name))</td>"
                + "<td class=\"mono\">\(HTML.escape(d.a ?? "(none)"))</td><td class=\"mono\">\(HTML.escape(d.b ?? "(none)"))</td>"
                + "<td>\(d.delta.map { String(format: "%+g", $0) } ?? "")</td></tr>"
        }
        // The same, hidden until the toggle: stage statuses and params that did not change.
        let differing = Set(comparison.differences.map { "\($0.category)/\($0.name)" })
        let same: [(String, String, String)] =
            [("commit", "commit", left.run.commit), ("branch", "branch", left.run.branch ?? "-")]
            + left.stages.compactMap { stage in
                right.stages.first { $0.name == stage.name }.map { _ in ("stage", stage.name, stage.status.rawValue) }
            }
        for (category, name, value) in same where !differing.contains("\(category)/\(name)") {
            body += "<tr class=\"same\"><td>\(category)</td><td>\(HTML.escape(name))</td><td class=\"mono\">\(HTML.escape(value))</td>"
                + "<td class=\"mono\">\(HTML.escape(value))</td><td></td></tr>"
        }
        return HTML.page(title: "Compare #\(a) and #\(b)", body: body + "</tbody></table>")
    }

    /// `/metrics`: the pipelines that have runs.
    func pipelinesPage() async throws -> String {
        let names = try APIRoutes(state: state).store { s throws(RunStoreError) in try s.pipelineNames() }
        let items = names.map { "<li><a href=\"/metrics/\(HTML.percent($0))\">\(HTML.escape($0))</a></li>" }.joined()
        return HTML.page(title: "Metrics", body: "<h1>Metrics</h1>" + (names.isEmpty ? "<p class=\"muted\">No runs yet.</p>" : "<ul>\(items)</ul>"))
    }

    /// `/metrics/PIPELINE`: one chart per numeric metric over the pipeline's runs.
    func metricsPage(_ pipeline: String, _ parts: RequestParts) async throws -> String {
        let api = APIRoutes(state: state)
        let series = try await MetricSeries.load(state, pipeline: pipeline, runs: try api.runsParameter(parts))
        var body = "<h1>Metrics of \(HTML.escape(pipeline))</h1>"
            + "<p class=\"muted\">The newest runs, oldest on the left; a dot links to its run. "
            + "<a href=\"/api/v1/pipelines/\(HTML.percent(pipeline))/metrics\">JSON</a></p>"
        if series.series.isEmpty { body += "<p class=\"muted\">No numeric metrics recorded.</p>" }
        for entry in series.series {
            body += "<h2>\(HTML.escape(entry.name))</h2>" + MetricChart(name: entry.name, points: entry.points).svg
        }
        return HTML.page(title: "Metrics of \(pipeline)", body: body)
    }

    /// `/models`: every registered model with its aliases.
    func modelsPage() async throws -> String {
        let models = try await APIRoutes(state: state).registry { r throws(RegistryError) in try await r.models() }
        var body = "<h1>Models</h1>"
        guard !models.isEmpty else { return HTML.page(title: "Models", body: body + "<p class=\"muted\">No models registered yet.</p>") }
        body += "<table><thead><tr><th>Model</th><th>Latest</th><th>Versions</th><th>Aliases</th><th>Updated (UTC)</th></tr></thead><tbody>"
        for model in models {
            let aliases = model.aliases.sorted { $0.key < $1.key }.map { "\(HTML.escape($0.key))=\($0.value)" }.joined(separator: ", ")
            body += "<tr><td><a href=\"/models/\(HTML.percent(model.name))\">\(HTML.escape(model.name))</a></td>"
                + "<td>\(model.latestVersion.map(String.init) ?? "-")</td><td>\(model.versionCount)</td>"
                + "<td>\(aliases.isEmpty ? "-" : aliases)</td><td>\(HTML.time(model.updatedAt))</td></tr>"
        }
        return HTML.page(title: "Models", body: body + "</tbody></table>")
    }

    /// `/models/NAME`: its versions (run, commit, metrics) and each alias's moves.
    func modelPage(_ name: String) async throws -> String {
        let history = try await ModelHistory.load(state, name: name)
        var body = "<h1>Model \(HTML.escape(name))</h1><h2>Versions</h2>"
        body += "<table><thead><tr><th>Version</th><th>Aliases</th><th>Run</th><th>Commit</th><th>Metrics</th><th>Package</th><th>Created (UTC)</th></tr></thead><tbody>"
        for version in history.versions.reversed() {
            let metrics = version.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(RegistryJSON.number($0.value))" }.joined(separator: " ")
            body += "<tr><td>\(version.version)</td><td>\(HTML.escape(version.aliases.joined(separator: ", ")))</td>"
                + "<td>\(version.provenance.runID.map(HTML.runLink) ?? "-")</td>"
                + "<td class=\"mono\">\(HTML.escape(String((version.provenance.commit ?? "-").prefix(7))))</td>"
                + "<td class=\"mono\">\(HTML.escape(metrics))</td><td class=\"mono\">\(HTML.escape(String(version.packageDigest.prefix(19))))</td>"
                + "<td>\(HTML.time(version.createdAt))</td></tr>"
        }
        body += "</tbody></table>"
        for (alias, moves) in history.aliases {
            body += "<h2>Alias \(HTML.escape(alias))</h2><table><thead><tr><th>Version</th><th>Moved (UTC)</th><th>Run</th><th>By</th></tr></thead><tbody>"
            for move in moves.reversed() {
                body += "<tr><td>\(move.version)</td><td>\(HTML.time(move.movedAt))</td>"
                    + "<td>\(move.provenance.runID.map(HTML.runLink) ?? "-")</td><td>\(HTML.escape(move.provenance.user))</td></tr>"
            }
            body += "</tbody></table>"
        }
        return HTML.page(title: "Model \(name)", body: body)
    }
}
