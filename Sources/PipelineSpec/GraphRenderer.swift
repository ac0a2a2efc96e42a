import Foundation

/// Draws a pipeline's stage graph. Pure text, deterministic: the same pipeline always
/// gives the same bytes, so the output can be committed and diffed.
///
/// Edges point from a stage to the stages that depend on it (the direction data flows).
public enum GraphRenderer {
    /// The graph of `pipeline` in `format`, ending with a newline.
    public static func render(_ pipeline: Pipeline, format: GraphFormat) -> String {
        switch format {
        case .text: return text(pipeline)
        case .dot: return dot(pipeline)
        case .mermaid: return mermaid(pipeline)
        }
    }

    /// ```
    /// pipeline iris: 3 stages
    ///   1. train     command
    ///   2. validate  validate   <- train
    /// ```
    private static func text(_ pipeline: Pipeline) -> String {
        let order = ordered(pipeline)
        let nameWidth = order.map(\.name.count).max() ?? 0
        let kindWidth = order.map(\.kind.count).max() ?? 0
        let numberWidth = String(order.count).count
        var lines = ["pipeline \(pipeline.name): \(order.count) stage\(order.count == 1 ? "" : "s")"]
        for (position, stage) in order.enumerated() {
            let number = String(position + 1)
            var line = "  " + String(repeating: " ", count: numberWidth - number.count) + number + ". "
                + pad(stage.name, nameWidth) + "  " + pad(stage.kind, kindWidth)
            if !stage.dependencies.isEmpty {
                line += "  <- " + stage.dependencies.joined(separator: ", ")
            }
            lines.append(trimTrailingSpaces(line))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func dot(_ pipeline: Pipeline) -> String {
        let order = ordered(pipeline)
        var lines = ["digraph \(quote(pipeline.name)) {", "  rankdir=LR;", "  node [shape=box];"]
        for stage in order {
            lines.append("  \(quote(stage.name)) [label=\(quote(stage.name, stage.kind))];")
        }
        for stage in order {
            for dependency in stage.dependencies {
                lines.append("  \(quote(dependency)) -> \(quote(stage.name));")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func mermaid(_ pipeline: Pipeline) -> String {
        let order = ordered(pipeline)
        // Stage names may hold `-`, which Mermaid reads as part of an arrow, so nodes get
        // positional ids and show the name as their label.
        var ids: [String: String] = [:]
        for (position, stage) in order.enumerated() { ids[stage.name] = "s\(position + 1)" }
        var lines = ["flowchart LR"]
        for stage in order {
            lines.append("  \(ids[stage.name] ?? stage.name)[\"\(stage.name)<br/>\(stage.kind)\"]")
        }
        for stage in order {
            for dependency in stage.dependencies {
                guard let from = ids[dependency], let to = ids[stage.name] else { continue }
                lines.append("  \(from) --> \(to)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func ordered(_ pipeline: Pipeline) -> [Stage] {
        let byName = Dictionary(pipeline.stages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return pipeline.topologicalOrder.compactMap { byName[$0] }
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    private static func trimTrailingSpaces(_ text: String) -> String {
        var result = text
        while result.hasSuffix(" ") { result.removeLast() }
        return result
    }

    /// A DOT string; several lines are joined with DOT's `\n`.
    private static func quote(_ lines: String...) -> String {
        let escaped = lines.map {
            $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        }
        return "\"" + escaped.joined(separator: "\\n") + "\""
    }
}
