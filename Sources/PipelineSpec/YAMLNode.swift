/// A node of the YAML document with the position it came from.
///
/// This is the composer's output and the decoder's input. Aliases are already resolved
/// (an alias is a copy of the anchored node, which costs nothing: arrays are shared until
/// written), and merge keys (`<<: *defaults`) are already applied.
struct YAMLNode {
    /// How a scalar was written; quoted and block scalars are always strings.
    enum ScalarStyle: Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A scalar's text, its style and its explicit tag, if any.
    struct Scalar {
        var text: String
        var style: ScalarStyle
        var tag: String?
    }

    /// A mapping entry, in file order.
    struct Pair {
        var key: YAMLNode
        var value: YAMLNode
    }

    enum Content {
        case scalar(Scalar)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    var content: Content
    /// 1-based position of the node's first character (for a quoted scalar, its quote).
    var line: Int
    var column: Int
    /// 1-based position just past the node's last character.
    var endLine: Int
    var endColumn: Int
    /// The number of nodes this node stands for once every alias inside it is expanded,
    /// saturated at `YAMLComposer.expansionLimit + 1`. Bounds all later work on the tree.
    var expandedSize: Int

    /// The scalar, when this node is one.
    var scalar: Scalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    /// The entries, when this node is a mapping.
    var pairs: [Pair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// The items, when this node is a sequence.
    var items: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The scalar's value by the YAML 1.2 core schema; quoted and block scalars are strings.
    var scalarValue: Value? {
        guard let scalar else { return nil }
        switch scalar.tag {
        case "tag:yaml.org,2002:str", "!": return .string(scalar.text)
        case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
             "tag:yaml.org,2002:null":
            return CoreSchema.resolve(scalar.text)
        default:
            return scalar.style == .plain ? CoreSchema.resolve(scalar.text) : .string(scalar.text)
        }
    }

    /// The key text of a mapping key: a scalar's text; nil for a collection used as a key.
    var keyText: String? { scalar?.text }

    /// "a mapping", "a list", "a string", … for "expected X, found Y" messages.
    var typeDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar: return scalarValue?.typeDescription ?? "a string"
        }
    }

    /// A null scalar at a position: what a skipped or broken node becomes.
    static func null(line: Int, column: Int) -> YAMLNode {
        YAMLNode(content: .scalar(Scalar(text: "", style: .plain, tag: nil)),
                 line: line, column: column, endLine: line, endColumn: column, expandedSize: 1)
    }
}
