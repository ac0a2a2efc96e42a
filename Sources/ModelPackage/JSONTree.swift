import Canonical
import Foundation

/// A JSON value as a tree, written in one of two fixed forms: the manifest's indented
/// form and a compact canonical one.
///
/// Both forms sort object keys by their UTF-8 bytes and escape strings with `JSONString`,
/// mlpipe's one escaper, so that equal values always give equal bytes on any machine and
/// with any Foundation: the bytes of `mlpipe-model.json` are the package's digest, and
/// the canonical form of a scan report is its digest. It is not a JSON library: values
/// come in through `Decodable` (any `Encodable` is encoded, then decoded as a tree).
///
/// The indented form is what Python's `json.dumps(value, indent=2, sort_keys=True,
/// ensure_ascii=False)` writes, plus a trailing newline: two spaces per level, `": "`
/// after a key, one element per line, `[]` and `{}` for empty containers.
indirect enum JSONTree: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    /// Decodes any JSON value. Integers stay integers; only a number with a fraction or
    /// an exponent that no `Int64` holds is a `Double`.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONTree].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONTree].self))
        }
    }

    /// The tree of an `Encodable` value, as `JSONEncoder` encodes it.
    static func of<Value: Encodable>(_ value: Value) throws -> JSONTree {
        try JSONDecoder().decode(JSONTree.self, from: JSONEncoder().encode(value))
    }

    /// The indented form with a trailing newline, as UTF-8 bytes.
    var indented: [UInt8] {
        var out = ""
        write(into: &out, indent: 0)
        out.append("\n")
        return Array(out.utf8)
    }

    /// The compact canonical form: no whitespace at all.
    var canonical: [UInt8] {
        var out = ""
        write(into: &out, indent: nil)
        return Array(out.utf8)
    }

    /// Keys in UTF-8 byte order, which is also the order of Unicode scalars.
    private static func sortedKeys(_ object: [String: JSONTree]) -> [String] {
        object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Writes the value; `indent` is the current depth, or nil for the compact form.
    private func write(into out: inout String, indent: Int?) {
        switch self {
        case .null: out.append("null")
        case .bool(let value): out.append(value ? "true" : "false")
        case .integer(let value): out.append(String(value))
        case .number(let value):
            // Swift's description is the shortest text that reads back as the same
            // Double, the same on every platform; JSON has no NaN or infinity.
            out.append(value.isFinite ? "\(value)" : "null")
        case .string(let value): JSONString.append(value, to: &out)
        case .array(let values):
            container("[", "]", count: values.count, into: &out, indent: indent) { index, out, inner in
                values[index].write(into: &out, indent: inner)
            }
        case .object(let object):
            let keys = Self.sortedKeys(object)
            container("{", "}", count: keys.count, into: &out, indent: indent) { index, out, inner in
                JSONString.append(keys[index], to: &out)
                out.append(inner == nil ? ":" : ": ")
                object[keys[index]]?.write(into: &out, indent: inner)
            }
        }
    }

    /// Writes an array or object: its elements one per line in the indented form.
    private func container(_ open: String, _ close: String, count: Int, into out: inout String, indent: Int?,
                           element: (Int, inout String, Int?) -> Void) {
        out.append(open)
        guard count > 0 else {
            out.append(close)
            return
        }
        let inner = indent.map { $0 + 1 }
        for index in 0..<count {
            if index > 0 { out.append(",") }
            if let inner { out.append("\n" + String(repeating: "  ", count: inner)) }
            element(index, &out, inner)
        }
        if let indent { out.append("\n" + String(repeating: "  ", count: indent)) }
        out.append(close)
    }
}
