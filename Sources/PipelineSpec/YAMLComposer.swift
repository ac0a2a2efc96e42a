// CYaml is the libyaml that Yams ships and builds. We read its event stream directly,
// instead of Yams' `compose`, for three reasons: Yams stops at the first duplicate key and
// points at the first occurrence (we report every duplicate, at the second one); Yams
// hashes mapping keys, which takes exponential time when a key is an alias of a nested
// alias ("billion laughs"); and Yams composes recursively, while this composer keeps its
// own stack and bounds depth and alias expansion itself.
import CYaml

/// Turns YAML text into `YAMLNode`s with positions, reporting problems instead of stopping.
///
/// - A syntax error ends composition (nothing after it can be trusted) and is reported at
///   libyaml's mark.
/// - Duplicate keys are reported at the repeated key, and the repeat is dropped.
/// - Aliases may expand the document by at most `expansionLimit` nodes in total; the alias
///   that crosses the limit is reported and replaced by null.
/// - Collections nested deeper than `depthLimit` are reported and replaced by null.
/// - A second document is reported and ignored.
enum YAMLComposer {
    /// Nodes that aliases may add to the document, in total. Real pipeline files add a few
    /// hundred at most; a "billion laughs" file adds billions.
    static let expansionLimit = 100_000
    /// Deepest nesting of collections accepted. Pipeline files use fewer than ten levels.
    static let depthLimit = 64

    /// The root node, or nil when the file has no document or a syntax error.
    static func compose(_ source: String, sink: DiagnosticSink) -> YAMLNode? {
        // A trailing NUL keeps the buffer's base address non-nil for an empty file
        // (libyaml asserts on a nil input); it is not part of the input length.
        var bytes = Array(source.utf8)
        let length = bytes.count
        bytes.append(0)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            sink.error("out of memory while reading YAML", line: 1, column: 1)
            return nil
        }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer -> YAMLNode? in
            guard let base = buffer.baseAddress else { return nil }
            yaml_parser_set_input_string(&parser, base, length)
            var state = ComposerState(sink: sink)
            while !state.finished {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    reportSyntaxError(parser, source: source, sink: sink)
                    return nil
                }
                defer { yaml_event_delete(&event) }
                state.handle(event)
            }
            if state.root == nil, sink.isEmpty {
                sink.error("the file has no YAML content; a pipeline needs at least `version: 1`, "
                           + "`name:` and `stages:`", line: 1, column: 1)
            }
            return state.root
        }
    }

    private static func reportSyntaxError(_ parser: yaml_parser_t, source: String, sink: DiagnosticSink) {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            sink.error("out of memory while reading YAML", line: 1, column: 1)
        case YAML_READER_ERROR:
            let (line, column) = position(ofByte: parser.problem_offset, in: source)
            var message = "invalid YAML: \(problem)"
            if parser.problem_value >= 0 {
                message += " (byte 0x\(String(parser.problem_value, radix: 16)))"
            }
            sink.error(message + "; pipeline files must be UTF-8 text without control characters",
                       line: line, column: column)
        default:
            let line = parser.problem_mark.line + 1
            let column = parser.problem_mark.column + 1
            if problem.hasPrefix("Maximum nesting level") {
                sink.error("invalid YAML: nesting deeper than 1000 levels; a pipeline file never needs this, "
                           + "flatten the structure", line: line, column: column)
                return
            }
            var message = "invalid YAML: \(problem)"
            if let context = parser.context.map({ String(cString: $0) }) {
                message += " \(context) at line \(parser.context_mark.line + 1), "
                    + "column \(parser.context_mark.column + 1)"
            }
            if character(atLine: line, column: column, in: source) == "\t" {
                message += "; YAML indentation must use spaces, not tabs"
            } else {
                message += "; check the indentation and quoting here"
            }
            sink.error(message, line: line, column: column)
        }
    }

    /// 1-based line and column of a byte offset, counting columns in Unicode scalars.
    private static func position(ofByte offset: Int, in source: String) -> (Int, Int) {
        var line = 1
        var column = 1
        var consumed = 0
        for scalar in source.unicodeScalars {
            if consumed >= offset { break }
            consumed += UTF8.width(scalar)
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    private static func character(atLine line: Int, column: Int, in source: String) -> Unicode.Scalar? {
        var currentLine = 1
        var currentColumn = 1
        for scalar in source.unicodeScalars {
            if currentLine == line, currentColumn == column { return scalar }
            if currentLine > line { return nil }
            if scalar == "\n" {
                currentLine += 1
                currentColumn = 1
            } else {
                currentColumn += 1
            }
        }
        return nil
    }
}

/// The composer's explicit stack, so that no input can exhaust the thread's stack.
private struct ComposerState {
    /// A collection being built.
    struct Frame {
        var isMapping: Bool
        var anchor: String?
        var line: Int
        var column: Int
        var items: [YAMLNode] = []
        var pairs: [YAMLNode.Pair] = []
        var pendingKey: YAMLNode?
        var keyLines: [String: Int] = [:]
        var merged: [YAMLNode.Pair] = []
        var size = 1
    }

    let sink: DiagnosticSink
    var stack: [Frame] = []
    var anchors: [String: YAMLNode] = [:]
    var root: YAMLNode?
    var finished = false
    var documents = 0
    var aliasExpansion = 0
    var expansionReported = false
    /// While > 0, events belong to a collection nested too deeply and are skipped.
    var skipDepth = 0
    var skipLine = 0
    var skipColumn = 0

    init(sink: DiagnosticSink) { self.sink = sink }

    mutating func handle(_ event: yaml_event_t) {
        let line = event.start_mark.line + 1
        let column = event.start_mark.column + 1
        if skipDepth > 0 {
            switch event.type {
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT: skipDepth += 1
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                skipDepth -= 1
                if skipDepth == 0 { add(.null(line: skipLine, column: skipColumn), anchor: nil) }
            case YAML_STREAM_END_EVENT, YAML_NO_EVENT: finished = true
            default: break
            }
            return
        }
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                sink.error("a pipeline file holds one YAML document, found a second one; "
                           + "remove the `---` and what follows, or move it to its own file",
                           line: line, column: column)
                finished = true
            }
        case YAML_STREAM_END_EVENT, YAML_NO_EVENT:
            finished = true
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = data.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self)
            } ?? ""
            let style: YAMLNode.ScalarStyle
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let node = YAMLNode(
                content: .scalar(.init(text: text, style: style, tag: Self.string(data.tag))),
                line: line, column: column,
                endLine: event.end_mark.line + 1, endColumn: event.end_mark.column + 1,
                expandedSize: 1)
            add(node, anchor: Self.string(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard var node = anchors[name] else {
                sink.error("unknown alias '*\(name)'; define the anchor '&\(name)' before using it",
                           line: line, column: column)
                add(.null(line: line, column: column), anchor: nil)
                return
            }
            aliasExpansion = min(aliasExpansion + node.expandedSize, YAMLComposer.expansionLimit + 1)
            if aliasExpansion > YAMLComposer.expansionLimit {
                if !expansionReported {
                    expansionReported = true
                    sink.error("alias '*\(name)' expands the document past \(YAMLComposer.expansionLimit) "
                               + "nodes; write the values out instead of nesting aliases",
                               line: line, column: column)
                }
                add(.null(line: line, column: column), anchor: nil)
                return
            }
            // The copy points at the alias, so that a problem with the value as a whole is
            // reported where it is used; its children keep their own positions.
            node.line = line
            node.column = column
            add(node, anchor: nil)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            if stack.count >= YAMLComposer.depthLimit {
                sink.error("nesting deeper than \(YAMLComposer.depthLimit) levels; "
                           + "a pipeline file never needs this, flatten the structure",
                           line: line, column: column)
                skipDepth = 1
                skipLine = line
                skipColumn = column
                return
            }
            let anchor = isMapping ? Self.string(event.data.mapping_start.anchor)
                                   : Self.string(event.data.sequence_start.anchor)
            stack.append(Frame(isMapping: isMapping, anchor: anchor, line: line, column: column))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return }
            let content: YAMLNode.Content
            if frame.isMapping {
                var pairs = frame.pairs
                // Explicit keys win over merged ones, and earlier merges over later ones.
                var present = Set(pairs.compactMap(\.key.keyText))
                for pair in frame.merged where pair.key.keyText.map({ present.insert($0).inserted }) ?? true {
                    pairs.append(pair)
                }
                content = .mapping(pairs)
            } else {
                content = .sequence(frame.items)
            }
            let node = YAMLNode(content: content, line: frame.line, column: frame.column,
                                endLine: event.end_mark.line + 1, endColumn: event.end_mark.column + 1,
                                expandedSize: frame.size)
            add(node, anchor: frame.anchor)
        default:
            break
        }
    }

    private mutating func add(_ node: YAMLNode, anchor: String?) {
        if let anchor { anchors[anchor] = node }
        guard var frame = stack.popLast() else {
            if root == nil { root = node }
            return
        }
        frame.size = min(frame.size + node.expandedSize, YAMLComposer.expansionLimit + 1)
        if !frame.isMapping {
            frame.items.append(node)
        } else if let key = frame.pendingKey {
            frame.pendingKey = nil
            addPair(key: key, value: node, to: &frame)
        } else {
            frame.pendingKey = node
        }
        stack.append(frame)
    }

    private func addPair(key: YAMLNode, value: YAMLNode, to frame: inout Frame) {
        if let scalar = key.scalar, scalar.style == .plain, scalar.text == "<<", scalar.tag == nil {
            merge(value, into: &frame, at: key)
            return
        }
        if let text = key.keyText {
            if let firstLine = frame.keyLines[text] {
                sink.error("duplicate key '\(text)' (first defined on line \(firstLine)); "
                           + "remove one of them or rename it", line: key.line, column: key.column)
                return
            }
            frame.keyLines[text] = key.line
        }
        frame.pairs.append(.init(key: key, value: value))
    }

    private func merge(_ value: YAMLNode, into frame: inout Frame, at key: YAMLNode) {
        let sources: [YAMLNode]
        switch value.content {
        case .mapping: sources = [value]
        case .sequence(let items): sources = items
        case .scalar:
            sink.error("a merge key '<<' takes a mapping or a list of mappings, found "
                       + "\(value.typeDescription); write `<<: *anchor`", line: value.line, column: value.column)
            return
        }
        for source in sources {
            guard let pairs = source.pairs else {
                sink.error("a merge key '<<' takes a mapping or a list of mappings, found "
                           + "\(source.typeDescription) in the list", line: source.line, column: source.column)
                continue
            }
            frame.merged.append(contentsOf: pairs)
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
