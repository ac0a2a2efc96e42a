import Foundation
import RunStore

/// A run's stages as an SVG graph, drawn on the server: one box per stage in columns by
/// depth (a stage sits one column right of the deepest stage it needs), an arrow per
/// need, the box filled with the stage's status colour, a cached stage marked with the
/// run its result came from. Each box links to the stage's details on the same page.
struct DAGDrawing: Sendable {
    static let boxWidth = 170.0, boxHeight = 46.0, columnGap = 60.0, rowGap = 18.0, margin = 10.0

    /// Stages in pipeline order, with what each needs (names not in the run are ignored).
    var stages: [StageRecord]
    var needs: [String: [String]]
    var runID: Int64

    /// Column of each stage: 0 for a stage that needs none, else one more than its
    /// deepest need. Needs form a DAG (the loader refused cycles when the run started);
    /// a stage still being visited counts as depth 0, so a damaged record cannot loop.
    func columns() -> [String: Int] {
        let known = Set(stages.map(\.name))
        var depth: [String: Int] = [:]
        var visiting: Set<String> = []
        func visit(_ name: String) -> Int {
            if let done = depth[name] { return done }
            guard visiting.insert(name).inserted else { return 0 }
            let parents = (needs[name] ?? []).filter(known.contains)
            let value = parents.isEmpty ? 0 : (parents.map(visit).max() ?? 0) + 1
            visiting.remove(name)
            depth[name] = value
            return value
        }
        for stage in stages { _ = visit(stage.name) }
        return depth
    }

    var svg: String {
        let column = columns()
        var rows: [Int: Int] = [:]
        var place: [String: (x: Double, y: Double)] = [:]
        for stage in stages {
            let c = column[stage.name] ?? 0
            let r = rows[c, default: 0]
            rows[c] = r + 1
            place[stage.name] = (Self.margin + Double(c) * (Self.boxWidth + Self.columnGap),
                                 Self.margin + Double(r) * (Self.boxHeight + Self.rowGap))
        }
        let width = Self.margin * 2 + Double((column.values.max() ?? 0) + 1) * (Self.boxWidth + Self.columnGap) - Self.columnGap
        let height = Self.margin * 2 + Double(max(1, rows.values.max() ?? 1)) * (Self.boxHeight + Self.rowGap) - Self.rowGap
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dag\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"stages of run #\(runID)\">"
        out += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
            + "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#78909c\"/></marker></defs>"
        for stage in stages {
            guard let to = place[stage.name] else { continue }
            for need in needs[stage.name] ?? [] {
                guard let from = place[need] else { continue }
                let x1 = from.x + Self.boxWidth, y1 = from.y + Self.boxHeight / 2, x2 = to.x, y2 = to.y + Self.boxHeight / 2
                let mid = (x1 + x2) / 2
                out += "<path d=\"M\(x1),\(y1) C\(mid),\(y1) \(mid),\(y2) \(x2),\(y2)\" fill=\"none\" stroke=\"#78909c\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>"
            }
        }
        for stage in stages {
            guard let at = place[stage.name] else { continue }
            let status = stage.status.rawValue
            let label = stage.name.count > 22 ? String(stage.name.prefix(21)) + "…" : stage.name
            var detail = status
            if let from = stage.cachedFrom, from != runID { detail += " · from #\(from)" }
            if stage.attempts > 1 { detail += " · \(stage.attempts) attempts" }
            out += "<a href=\"#stage-\(HTML.escape(HTML.percent(stage.name)))\"><g class=\"node\" data-stage=\"\(HTML.escape(stage.name))\">"
            out += "<title>\(HTML.escape(stage.name)): \(HTML.escape(detail))</title>"
            out += "<rect x=\"\(at.x)\" y=\"\(at.y)\" width=\"\(Self.boxWidth)\" height=\"\(Self.boxHeight)\" rx=\"6\" "
                + "fill=\"\(HTML.colour(status))\" stroke=\"#37474f\" stroke-width=\"1\"\(stage.status == .cached ? " stroke-dasharray=\"4 3\"" : "")/>"
            out += "<text x=\"\(at.x + 10)\" y=\"\(at.y + 19)\" fill=\"#fff\" font-weight=\"bold\">\(HTML.escape(label))</text>"
            out += "<text x=\"\(at.x + 10)\" y=\"\(at.y + 36)\" fill=\"#fff\">\(HTML.escape(detail))</text></g></a>"
        }
        return out + "</svg>"
    }
}
