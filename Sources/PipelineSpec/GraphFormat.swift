/// The output formats of `mlpipe graph`.
public enum GraphFormat: String, Sendable, CaseIterable {
    /// Readable ASCII: one line per stage in topological order, with what it depends on.
    case text
    /// Graphviz DOT (`dot -Tsvg`).
    case dot
    /// A Mermaid flowchart, which GitHub renders inside Markdown.
    case mermaid
}
