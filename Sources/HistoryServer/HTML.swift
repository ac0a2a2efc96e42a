import Foundation

/// The HTML of every page: escaping, the layout with its stylesheet, and small pieces.
///
/// Every piece of text that comes from a user, a pipeline file, a log or the store goes
/// through ``escape(_:)`` (or ``attribute(_:)``) before it is part of a page; markup is
/// only ever written here and in the page builders, never taken from data.
enum HTML {
    /// Text safe between tags and inside double-quoted attributes: `& < > " '` escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A query string from pairs, each side percent-encoded; pairs with an empty value
    /// are left out. Empty when nothing is left.
    static func query(_ pairs: [(String, String?)]) -> String {
        let kept = pairs.compactMap { key, value in value.flatMap { $0.isEmpty ? nil : "\(percent(key))=\(percent($0))" } }
        return kept.isEmpty ? "" : "?" + kept.joined(separator: "&")
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986).
    static func percent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A whole page: the navigation, `body`, the stylesheet inline (one request per page,
    /// no build step).
    static func page(title: String, body: String, script: String = "") -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · mlpipe</title>
        <style>\(stylesheet)</style>
        </head>
        <body>
        <nav><a class="brand" href="/">mlpipe</a> <a href="/">Runs</a> <a href="/triggers">Triggers</a> <a href="/compare">Compare</a> <a href="/metrics">Metrics</a> <a href="/models">Models</a></nav>
        <main>
        \(body)
        </main>
        \(script.isEmpty ? "" : "<script>\(script)</script>")
        </body>
        </html>
        """
    }

    /// A status as a coloured label.
    static func status(_ status: String) -> String {
        "<span class=\"status s-\(escape(status))\">\(escape(status))</span>"
    }

    /// A run number as a link to its page.
    static func runLink(_ id: Int64) -> String { "<a href=\"/runs/\(id)\">#\(id)</a>" }

    /// A duration in words, as the CLI shows it (`1.2s`, `3m04s`).
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return String(format: "%dh%02dm", whole / 3600, (whole % 3600) / 60)
    }

    /// A time in UTC, to the second.
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return String(date.formatted(HistoryJSON.isoStyle).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    /// Bytes in a unit a person reads (`812 B`, `1.4 MB`).
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// The colour of a status in the DAG and the charts (the same as the labels').
    static func colour(_ status: String) -> String {
        switch status {
        case "succeeded": "#2e7d32"
        case "cached": "#6a8caf"
        case "failed": "#c62828"
        case "running": "#0277bd"
        case "pending": "#9e9e9e"
        default: "#ef6c00"
        }
    }

    static let stylesheet = """
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
        nav{background:#263238;padding:.6em 1em}nav a{color:#eceff1;margin-right:1em;text-decoration:none}
        nav a.brand{font-weight:bold}main{padding:1em 1.5em;max-width:1200px}
        h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #e0e0e0;vertical-align:top}
        th{background:#eceff1;font-weight:600}code,pre,.mono{font-family:ui-monospace,monospace;font-size:12.5px}
        pre{background:#fff;border:1px solid #e0e0e0;padding:.6em;overflow:auto;max-height:36em;white-space:pre-wrap}
        .status{padding:.05em .5em;border-radius:.8em;color:#fff;font-size:12px}
        .s-succeeded{background:#2e7d32}.s-cached{background:#6a8caf}.s-failed{background:#c62828}.s-running{background:#0277bd}
        .s-pending,.s-queued{background:#9e9e9e}.s-done{background:#2e7d32}.s-cancelled,.s-interrupted,.s-skipped{background:#ef6c00}
        form.filters{display:flex;gap:.5em;flex-wrap:wrap;margin:.5em 0 1em}form.filters input,form.filters select{padding:.2em}
        .pager{margin:1em 0}.error{color:#c62828}.muted{color:#757575}.same{display:none}
        body.all .same{display:table-row}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{color:#555}
        .stage{background:#fff;border:1px solid #e0e0e0;padding:.6em 1em;margin:.8em 0}.stage:target{border-color:#0277bd;box-shadow:0 0 0 2px #b3e5fc}
        svg text{font:12px system-ui,sans-serif}svg a:hover rect{stroke-width:3}
        mark{background:#fff59d}button{cursor:pointer}tr.detail td{border-top:0;padding-top:0;font-size:13px}
        """
}
