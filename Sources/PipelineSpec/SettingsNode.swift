/// A `with:` value as `SettingsDecoder` reads it: known scalars, lists and mappings, and
/// at lint time strings whose value is not known yet because they hold `${{ }}`.
indirect enum SettingsNode: Sendable {
    /// A number, boolean, null or string whose value is known.
    case scalar(Value)
    /// A string with an expression in it, as written: known only when the stage starts.
    case deferred(String)
    case list([SettingsNode])
    case mapping([String: SettingsNode])

    /// The node of a value before rendering: a string with `${{ }}` is deferred (also one
    /// whose expression is malformed, which the loader reports as that).
    init(_ value: TemplateValue) {
        switch value {
        case .scalar(let scalar): self = .scalar(scalar)
        case .string(let template):
            self = template.isLiteral && !template.raw.contains("${{") ? .scalar(.string(template.raw)) : .deferred(template.raw)
        case .array(let items): self = .list(items.map(SettingsNode.init))
        case .object(let members): self = .mapping(members.mapValues(SettingsNode.init))
        }
    }

    /// The node of a rendered value: everything is known.
    init(_ value: Value) {
        switch value {
        case .array(let items): self = .list(items.map(SettingsNode.init))
        case .object(let members): self = .mapping(members.mapValues(SettingsNode.init))
        default: self = .scalar(value)
        }
    }

    /// Whether a deferred string is anywhere inside.
    var containsDeferred: Bool {
        switch self {
        case .scalar: return false
        case .deferred: return true
        case .list(let items): return items.contains(where: \.containsDeferred)
        case .mapping(let members): return members.values.contains(where: \.containsDeferred)
        }
    }

    /// The node as a `Value`; a deferred string is its text.
    var value: Value {
        switch self {
        case .scalar(let value): return value
        case .deferred(let raw): return .string(raw)
        case .list(let items): return .array(items.map(\.value))
        case .mapping(let members): return .object(members.mapValues(\.value))
        }
    }

    /// "a list", "the string 'x'", "the number 3", "null" for "found …" in messages.
    var found: String {
        switch self {
        case .scalar(.string(let text)), .deferred(let text): return "the string '\(text.prefix(40))'"
        case .scalar(.int), .scalar(.double): return "the number \(value.interpolated)"
        case .scalar(.bool(let flag)): return "the boolean \(flag)"
        case .scalar: return "null"
        case .list: return "a list"
        case .mapping: return "a mapping"
        }
    }

    var isNull: Bool {
        if case .scalar(.null) = self { return true }
        return false
    }
}
