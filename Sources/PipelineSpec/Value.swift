import Canonical
import Foundation

/// A JSON-like value: a param, a `with:` setting after rendering, a metric, an expression result.
///
/// It is the one value type shared by the pipeline file, expressions and the engine's cache
/// keys, so it has exactly one canonical text form (`canonicalJSON()`) and exactly one form
/// inside an interpolated string (`interpolated`).
///
/// Integers and doubles stay distinct: `3` and `3.0` are different values, as they are in the
/// file (YAML 1.2 core schema). Non-finite doubles (`.inf`, `.nan`) exist because YAML has
/// them; JSON does not, so `canonicalJSON()` writes them as the strings `".inf"`, `"-.inf"`
/// and `".nan"`.
public indirect enum Value: Sendable, Hashable, Codable {
    /// YAML `null`, `~` or an empty value.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A whole number that fits in `Int`.
    case int(Int)
    /// A number with a fraction or an exponent, or an integer too large for `Int`.
    case double(Double)
    /// Any text.
    case string(String)
    /// A list, in order.
    case array([Value])
    /// A mapping; key order is not kept (canonical forms sort keys).
    case object([String: Value])

    /// The value as compact JSON with sorted keys and deterministic numbers.
    ///
    /// Two equal values always give the same bytes, which is what a cache key needs.
    /// Doubles use Swift's shortest round-trip form (`0.9`, `3.0`, `1e-07`).
    public func canonicalJSON() -> String {
        var out = ""
        writeJSON(into: &out)
        return out
    }

    /// How the value reads inside an interpolated string.
    ///
    /// Strings are inserted raw (no quotes), numbers as written (`0.9`, `3`), booleans as
    /// `true`/`false`, null as the empty string (as GitHub Actions does), and lists and
    /// mappings as their canonical JSON.
    public var interpolated: String {
        switch self {
        case .null: return ""
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .double(let value): return Value.format(value)
        case .string(let value): return value
        case .array, .object: return canonicalJSON()
        }
    }

    /// Reads a scalar by the YAML 1.2 core schema, for `--param k=v` and similar.
    ///
    /// `42`, `0x2a`, `0o52` are ints; `0.5`, `1e3`, `.inf` are doubles; `true`/`false` (also
    /// `True`, `TRUE`) are bools; `null`, `~` and the empty string are null; anything else,
    /// including `yes`, `on` and quoted text, is a string. Surrounding whitespace is ignored.
    /// An integer too large for `Int` becomes a double.
    public init(parsingScalar text: String) {
        self = CoreSchema.resolve(text.trimmingCharacters(in: .whitespaces))
    }

    /// The mapping, when this value is one.
    public var object: [String: Value]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The list, when this value is one.
    public var array: [Value]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The text, when this value is a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// A short name of the value's type for messages: "a string", "a mapping", …
    public var typeDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "a mapping"
        }
    }

    // MARK: Codable

    /// Decodes from the natural JSON form (`null`, `true`, `3`, `0.5`, `"x"`, `[…]`, `{…}`).
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([Value].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: Value].self))
        }
    }

    /// Encodes to the natural JSON form.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    // MARK: Formatting

    static func format(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        return value.description
    }

    private func writeJSON(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value):
            if value.isFinite {
                out += value.description
            } else {
                Value.writeJSONString(Value.format(value), into: &out)
            }
        case .string(let value): Value.writeJSONString(value, into: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.writeJSON(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            // Sort by the UTF-8 bytes of the keys, so the order never depends on locale or
            // on Unicode normalisation.
            for (index, key) in members.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).enumerated() {
                if index > 0 { out += "," }
                Value.writeJSONString(key, into: &out)
                out += ":"
                members[key]?.writeJSON(into: &out)
            }
            out += "}"
        }
    }

    private static func writeJSONString(_ text: String, into out: inout String) {
        JSONString.append(text, to: &out)
    }
}
