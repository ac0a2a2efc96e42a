/// A `with:` value before rendering: strings are templates, other scalars stay typed.
public indirect enum TemplateValue: Sendable, Hashable {
    /// A number, boolean or null.
    case scalar(Value)
    /// A string, which may contain expressions.
    case string(Template)
    /// A list.
    case array([TemplateValue])
    /// A mapping.
    case object([String: TemplateValue])

    /// Every context path used anywhere inside, in order of first use, without repeats.
    public var references: [[String]] {
        var seen = Set<[String]>()
        return allReferences.filter { seen.insert($0).inserted }
    }

    private var allReferences: [[String]] {
        switch self {
        case .scalar: return []
        case .string(let template): return template.references
        case .array(let items): return items.flatMap(\.allReferences)
        case .object(let members): return members.keys.sorted().flatMap { members[$0]?.allReferences ?? [] }
        }
    }

    /// Every template inside, mapping keys in sorted order.
    var templates: [Template] {
        switch self {
        case .scalar: return []
        case .string(let template): return [template]
        case .array(let items): return items.flatMap(\.templates)
        case .object(let members): return members.keys.sorted().flatMap { members[$0]?.templates ?? [] }
        }
    }

    /// The value, when it holds no `${{ }}` expression anywhere: what can be checked
    /// before a run, when expressions cannot yet be evaluated.
    public var literal: Value? {
        switch self {
        case .scalar(let value):
            return value
        case .string(let template):
            return template.isLiteral ? .string(template.raw) : nil
        case .array(let items):
            var values: [Value] = []
            for item in items {
                guard let value = item.literal else { return nil }
                values.append(value)
            }
            return .array(values)
        case .object(let members):
            var values: [String: Value] = [:]
            for (key, member) in members {
                guard let value = member.literal else { return nil }
                values[key] = value
            }
            return .object(values)
        }
    }

    /// The value with every template evaluated (`Template.evaluate`: a string that is one
    /// expression keeps the expression's type).
    public func render(_ context: EvaluationContext) throws(ExpressionError) -> Value {
        switch self {
        case .scalar(let value):
            return value
        case .string(let template):
            return try template.evaluate(context)
        case .array(let items):
            var values: [Value] = []
            for item in items { values.append(try item.render(context)) }
            return .array(values)
        case .object(let members):
            var values: [String: Value] = [:]
            for (key, member) in members { values[key] = try member.render(context) }
            return .object(values)
        }
    }
}
