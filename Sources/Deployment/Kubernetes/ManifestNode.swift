/// One value of a Kubernetes manifest, in the order it is written: the renderer builds
/// these and `yaml` writes them, so that the same input always gives the same bytes.
///
/// A mapping keeps its pairs in the order given (the renderer writes `apiVersion`,
/// `kind`, `metadata`, `spec` as people expect them; a user's own mappings, such as a
/// node selector, are sorted by key before they get here). Strings are written plain
/// only when YAML cannot read them as anything else; every other string is double-quoted
/// with YAML's escapes (see `ManifestNode.scalar(_:)`), so no user string can change
/// the structure of a manifest or turn into a number, a boolean or null.
public indirect enum ManifestNode: Sendable, Equatable {
    /// A string, quoted unless it can only be read as itself.
    case string(String)
    /// A whole number.
    case int(Int)
    /// `true` or `false`.
    case bool(Bool)
    /// A sequence, written one item a line.
    case list([ManifestNode])
    /// A mapping, written in the order of its pairs.
    case map([(String, ManifestNode)])

    /// Equal kinds with equal contents, pairs compared in order.
    public static func == (lhs: ManifestNode, rhs: ManifestNode) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.map(let a), .map(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// A mapping of strings, sorted by key: labels, annotations, a node selector.
    static func sorted(_ strings: [String: String]) -> ManifestNode {
        .map(strings.keys.sorted().map { ($0, .string(strings[$0] ?? "")) })
    }

    /// A list of strings in the order given.
    static func strings(_ items: [String]) -> ManifestNode { .list(items.map(ManifestNode.string)) }

    /// The document as block-style YAML, ending in a newline.
    public var yaml: String {
        var out = ""
        switch self {
        case .map(let pairs) where !pairs.isEmpty: Self.writeMap(pairs, indent: 0, to: &out)
        case .list(let items) where !items.isEmpty: Self.writeList(items, indent: 0, to: &out)
        default: out = inline + "\n"
        }
        return out
    }

    // MARK: Writing

    /// A scalar, or an empty collection, as it is written after `key: ` or `- `.
    private var inline: String {
        switch self {
        case .string(let text): return Self.scalar(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    /// Whether the node is written on lines of its own (a non-empty collection).
    private var isBlock: Bool {
        switch self {
        case .list(let items): return !items.isEmpty
        case .map(let pairs): return !pairs.isEmpty
        default: return false
        }
    }

    private static func writeMap(_ pairs: [(String, ManifestNode)], indent: Int, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in pairs {
            out += pad + scalar(key) + ":"
            switch value {
            case .map(let inner) where !inner.isEmpty:
                out += "\n"
                writeMap(inner, indent: indent + 2, to: &out)
            case .list(let items) where !items.isEmpty:
                // A list under a key sits at the key's indentation, as kubectl writes it.
                out += "\n"
                writeList(items, indent: indent, to: &out)
            default:
                out += " " + value.inline + "\n"
            }
        }
    }

    private static func writeList(_ items: [ManifestNode], indent: Int, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let pairs) where !pairs.isEmpty:
                // The first pair follows the dash; the others line up under it.
                var first = ""
                writeMap([pairs[0]], indent: indent + 2, to: &first)
                out += pad + "- " + first.dropFirst(indent + 2)
                writeMap(Array(pairs.dropFirst()), indent: indent + 2, to: &out)
            case .list(let inner) where !inner.isEmpty:
                out += pad + "-\n"
                writeList(inner, indent: indent + 2, to: &out)
            default:
                out += pad + "- " + item.inline + "\n"
            }
        }
    }

    /// `text` as a YAML scalar that reads back as exactly that string.
    ///
    /// Plain only for a letter or `/` followed by letters, digits and `.` `_` `/` `-`,
    /// and not one of YAML 1.1's booleans or nulls (`yes`, `off`, `null`, …), which
    /// some readers still honour: such a string can be nothing but itself. Anything else
    /// is double-quoted. The escaper is not `JSONString`'s: YAML allows fewer characters
    /// unescaped (DEL, C1 controls, U+FEFF and U+FFFE/FFFF must be escaped, or a YAML
    /// reader refuses the file; U+0085, U+2028 and U+2029 are line breaks to YAML 1.1),
    /// so those are written as `\uXXXX`.
    static func scalar(_ text: String) -> String {
        if isPlain(text) { return text }
        var out = "\""
        for unit in text.unicodeScalars {
            switch unit {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let value = unit.value
                // U+0085, U+2028 and U+2029 are line breaks to a YAML 1.1 reader.
                let printable = (0x20...0x7E).contains(value) || value >= 0x10000
                    || ((0xA0...0xFFFD).contains(value) && !(0xD800...0xDFFF).contains(value)
                        && ![0xFEFF, 0x2028, 0x2029].contains(value))
                if printable {
                    out.unicodeScalars.append(unit)
                } else if value <= 0xFFFF {
                    out += "\\u" + hex(value, digits: 4)
                } else {
                    out += "\\U" + hex(value, digits: 8)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    private static let reservedWords: Set<String> = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null",
    ]

    private static func isPlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII,
              first.properties.isAlphabetic || first == "/" else { return false }
        guard !reservedWords.contains(text.lowercased()) else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                               || scalar == "." || scalar == "_" || scalar == "/" || scalar == "-")
        }
    }
}
